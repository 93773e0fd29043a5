"""What certificates offer the platform (core.registry)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wenming.certificates import selectors
from wenming.certificates.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_certificates
from wenming.core.demo import Seed
from wenming.core.registry import MANAGE, ME_PAGE, Domain, MenuEntry, Panel, register
from wenming.core.roles import Perm


def _certificates_panel(request: HttpRequest, volunteer: Any) -> dict[str, Any]:
    return {}


DOMAIN = register(
    Domain(
        name="certificates",
        label=_("志愿服务证明"),
        menu=(
            MenuEntry("certificates", _("志愿服务证明"), "certificates:list", Perm.ACTIVITY_VIEW,
                      MANAGE, 30, element_id="nav-certificates", secondary=True),
        ),
        seeds=(Seed("certificates", 60, seed_certificates),),
        verbs={**selectors.AUDIT_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
        panels=(
            Panel(ME_PAGE, "certificates", "certificates/me/certificates.html",
                  _certificates_panel, 40),
        ),
    )
)  # fmt: skip
