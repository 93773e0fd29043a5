"""Demo data of the fund: the county's practice fund with a few donations, booked
through the real services by the demo fund manager (孙基金)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.accounts.models import User
from wenming.activities.models import Project
from wenming.core import checkpoints
from wenming.core.access import subtree_q
from wenming.core.regions import prefix_of
from wenming.fund import services
from wenming.fund.models import Donation, DonationChannel, DonorKind, Fund, FundEntry
from wenming.network.demo import DEMO_COUNTY
from wenming.network.models import Unit, UnitKind

DEMO_VERB = "demo.fund"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示基金")
FUND_NAME = "贾汪区新时代文明实践基金"
MANAGER_PHONE = "13800000009"
DEMO_COUNTY_PREFIX = prefix_of(DEMO_COUNTY)

# (donor kind, donor, publish the name, yuan, channel, project name or "", days ago)
DONATIONS = [
    (DonorKind.ENTERPRISE, "徐州潘安湖文旅有限公司", True, 50_000, DonationChannel.BANK, "", 40),
    (DonorKind.INDIVIDUAL, "王建国", True, 2_000, DonationChannel.BANK, "", 25),
    (DonorKind.INDIVIDUAL, "李秀兰", False, 800, DonationChannel.CASH, "", 18),
    (DonorKind.ANONYMOUS, "", False, 500, DonationChannel.CASH, "", 10),
    (DonorKind.ENTERPRISE, "贾汪区爱心商会", True, 20_000, DonationChannel.BANK, "幸福巴士", 6),
]


def seed_fund() -> dict[str, int]:
    manager = User.objects.get_by_phone(MANAGER_PHONE)
    center = Unit.objects.get(region_id=DEMO_COUNTY, kind=UnitKind.CENTER)
    created = {"funds": 0, "donations": 0}
    fund = Fund.objects.filter(unit=center, name=FUND_NAME).first()
    if fund is None:
        fund = services.fund_create(
            actor=manager,
            unit_id=center.pk,
            name=FUND_NAME,
            purpose="支持新时代文明实践志愿服务项目孵化、阵地建设和先进典型关爱。"
            "每一笔收支都记入公开账本，任何人可以核对。",
        )
        created["funds"] += 1
    if Donation.objects.filter(fund=fund).exists():
        return created
    today = timezone.localdate()
    for kind, name, publish, yuan, channel, project_name, days in DONATIONS:
        project = (
            Project.objects.filter(subtree_q("region_id", DEMO_COUNTY_PREFIX), name=project_name)
            .order_by("pk")
            .first()
            if project_name
            else None
        )
        services.donation_record(
            actor=manager,
            fund=fund,
            data=services.DonationInput(
                amount=yuan * 100,
                donor_kind=kind,
                channel=channel,
                donor_name=name,
                publish_name=publish,
                project_id=project.pk if project else None,
                received_on=today - dt.timedelta(days=days),
            ),
        )
        created["donations"] += 1
    # The platform signs the chain's head (as its daily task does): the public page
    # shows a checkpoint from the start.
    checkpoints.checkpoint(FundEntry, fund.chain)
    return created
