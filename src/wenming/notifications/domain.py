"""What notifications offer the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _

from wenming.core.registry import Domain, register
from wenming.notifications.services import AUDIT_VERBS

DOMAIN = register(Domain(name="notifications", label=_("消息通知"), verbs=AUDIT_VERBS))
