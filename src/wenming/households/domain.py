"""What the household register (十必联) offers the platform (core.registry)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.demo import Seed
from wenming.core.home import HomeAction
from wenming.core.registry import ME_PAGE, Domain, Export, Figure, MenuEntry, Panel, register
from wenming.core.roles import Perm
from wenming.households import selectors
from wenming.households.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_households
from wenming.households.excel import AUDIT_VERBS as EXCEL_VERBS


def _contact_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any] | None:
    contact = selectors.contact_of_user(request.user)
    return {"contact": contact} if contact else None


DOMAIN = register(
    Domain(
        name="households",
        label=_("十必联"),
        menu=(
            MenuEntry("households", _("十必联"), "households:list", Perm.HOUSEHOLD_VIEW,
                      order=50, element_id="nav-households"),
        ),
        actions=(
            HomeAction("households", _("十必联"), "households:events?state=open",
                       Perm.HOUSEHOLD_MANAGE, _("包挂家庭的急事、难事，及时联系。"), 53),
        ),
        counters=tuple(selectors.home_counters()),
        figures=(
            Figure("households.events", pgettext_lazy("figure", "十必联事项"),
                   pgettext_lazy("figure unit", "件"), Perm.HOUSEHOLD_VIEW,
                   selectors.events_by_child, 50),
        ),
        exports=(
            Export("households", _("包联家庭户"), "households:excel_export",
                   Perm.HOUSEHOLD_VIEW),
        ),
        seeds=(Seed("households", 70, seed_households),),
        verbs={**selectors.AUDIT_VERBS, **EXCEL_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
        panels=(Panel(ME_PAGE, "households", "households/me/contact.html", _contact_panel, 20),),
    )
)  # fmt: skip
