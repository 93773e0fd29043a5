"""What the kernel itself offers: the home link, the audit log, the admin site."""

from django.utils.translation import gettext_lazy as _

from wenming.core.home import EVERYONE
from wenming.core.registry import ANYONE, MANAGE, Domain, MenuEntry, register
from wenming.core.roles import Perm

DOMAIN = register(
    Domain(
        name="core",
        label=_("基础"),
        menu=(
            MenuEntry("home", _("首页"), "home", ANYONE, order=0),
            MenuEntry("audit", _("操作记录"), "audit", EVERYONE, MANAGE, 90, secondary=True),
            MenuEntry(
                "admin_site", _("系统管理"), "admin:index", Perm.ADMIN_SITE, MANAGE, 99,
                secondary=True,
            ),
        ),
    )
)  # fmt: skip
