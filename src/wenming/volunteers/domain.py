"""What volunteers and their teams offer the platform (core.registry)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.demo import Seed
from wenming.core.home import VOLUNTEER, HomeAction
from wenming.core.registry import (
    MANAGE,
    ME_PAGE,
    Domain,
    Export,
    Figure,
    MenuEntry,
    Panel,
    register,
)
from wenming.core.roles import Perm
from wenming.volunteers import selectors
from wenming.volunteers.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_volunteers
from wenming.volunteers.excel import AUDIT_VERBS as EXCEL_VERBS
from wenming.volunteers.teams import memberships_of


def _teams_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any]:
    return {"memberships": list(memberships_of(volunteer=volunteer)[:50])}


DOMAIN = register(
    Domain(
        name="volunteers",
        label=_("志愿者"),
        menu=(
            MenuEntry("me", _("我的"), "volunteers:me", VOLUNTEER, order=40),
            MenuEntry("teams_mine", _("服务队"), "teams:list", VOLUNTEER, order=60,
                      unless=Perm.VOLUNTEER_VIEW),
            MenuEntry("volunteers", _("志愿者"), "volunteers:list", Perm.VOLUNTEER_VIEW,
                      MANAGE, 20),
            MenuEntry("teams", _("服务队"), "teams:list", Perm.VOLUNTEER_VIEW, MANAGE, 21),
        ),
        actions=(
            HomeAction("me", _("我的"), "volunteers:me", VOLUNTEER,
                       _("我的报名、服务时长、星级和证明。"), 31),
            HomeAction("teams", _("服务队"), "teams:list", VOLUNTEER,
                       _("我加入的服务队，申请加入新的服务队。"), 34),
            HomeAction("review_volunteers", _("审核志愿者"), "volunteers:list?status=pending",
                       Perm.VOLUNTEER_MANAGE, _("新注册的志愿者等您审核。"), 51),
        ),
        counters=tuple(selectors.home_counters()),
        figures=(
            Figure("volunteers.registered", pgettext_lazy("figure", "注册志愿者"),
                   pgettext_lazy("figure unit", "人"), Perm.VOLUNTEER_VIEW,
                   selectors.registered_by_child, 10),
        ),
        exports=(
            Export("volunteers", _("志愿者名册"), "volunteers:excel_export", Perm.VOLUNTEER_VIEW),
        ),
        seeds=(Seed("volunteers", 20, seed_volunteers),),
        verbs={**selectors.AUDIT_VERBS, **EXCEL_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
        panels=(Panel(ME_PAGE, "teams", "volunteers/me/teams.html", _teams_panel, 10),),
        audiences={VOLUNTEER: selectors.has_volunteer_record},
    )
)  # fmt: skip
