"""What the service-record ledger offers the platform (core.registry)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.demo import Seed
from wenming.core.home import VOLUNTEER, HomeAction
from wenming.core.registry import ME_PAGE, Domain, Figure, Panel, register
from wenming.core.roles import Perm
from wenming.records import selectors
from wenming.records.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_records


def _records_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any]:
    return {"v": volunteer}


DOMAIN = register(
    Domain(
        name="records",
        label=_("签到与服务记录"),
        actions=(
            HomeAction("my_records", _("我的服务记录"), "records:mine", VOLUNTEER,
                       _("每一次服务的时长；有误可以申请更正。"), 33),
        ),
        figures=(
            Figure("records.hours", pgettext_lazy("figure", "志愿服务时长"),
                   pgettext_lazy("figure unit", "小时"), Perm.ACTIVITY_VIEW,
                   selectors.hours_by_child, 30),
        ),
        seeds=(Seed("records", 40, seed_records),),
        verbs={**selectors.AUDIT_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
        panels=(Panel(ME_PAGE, "records", "records/me/records.html", _records_panel, 30),),
    )
)  # fmt: skip
