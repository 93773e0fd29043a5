"""What the practice fund offers the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.demo import Seed
from wenming.core.home import HomeAction
from wenming.core.registry import ANYONE, MANAGE, Domain, MenuEntry, register
from wenming.core.roles import Perm, Role
from wenming.fund.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_fund
from wenming.fund.models import FundEntry

DOMAIN = register(
    Domain(
        name="fund",
        label=_("文明实践基金"),
        # Managers handle the money; the county's and town's admins and the supervisors
        # see it (donors' names included), read-only.
        grants={
            Role.FUND_MANAGER: frozenset({Perm.FUND_VIEW, Perm.FUND_MANAGE}),
            Role.COUNTY_ADMIN: frozenset({Perm.FUND_VIEW}),
            Role.INSTITUTE_ADMIN: frozenset({Perm.FUND_VIEW}),
            Role.SUPERVISOR: frozenset({Perm.FUND_VIEW}),
        },
        menu=(
            MenuEntry("fund", _("文明实践基金"), "fund:list", Perm.FUND_VIEW, MANAGE, 35,
                      element_id="nav-fund"),
            MenuEntry("fund_public", _("基金公示"), "fund:public_list", ANYONE, order=70,
                      unless=Perm.FUND_VIEW, element_id="nav-fund-public", secondary=True),
        ),
        actions=(
            HomeAction("fund", _("文明实践基金"), "fund:list", Perm.FUND_MANAGE,
                       _("登记捐赠，查看余额和公开账本。"), 54),
        ),
        seeds=(Seed("fund", 65, seed_fund),),
        ledgers=(FundEntry,),
        verbs={
            "fund.create": pgettext_lazy("audit verb", "设立基金"),
            "fund.donation": pgettext_lazy("audit verb", "登记捐赠"),
            "fund.refund": pgettext_lazy("audit verb", "捐赠退款"),
            DEMO_VERB: DEMO_VERB_LABEL,
        },
    )
)  # fmt: skip
