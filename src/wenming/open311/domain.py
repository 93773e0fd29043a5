"""What the Open311 interface offers the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _

from wenming.core.registry import MANAGE, Domain, MenuEntry, register
from wenming.core.roles import Perm
from wenming.open311.services import AUDIT_VERBS

DOMAIN = register(
    Domain(
        name="open311",
        label=_("Open311 接口"),
        menu=(
            MenuEntry("open311", _("接口密钥"), "open311:keys", Perm.GRANTS_MANAGE, MANAGE, 40,
                      element_id="nav-open311", secondary=True),
        ),
        verbs=AUDIT_VERBS,
    )
)  # fmt: skip
