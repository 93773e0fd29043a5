"""What notifications offer the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _

from wenming.core.registry import Domain, register

# Imported in every process (web and queue): its receiver queues the delivery of text
# messages when a service signals `outbox_queued`.
from wenming.notifications import tasks  # noqa: F401
from wenming.notifications.services import AUDIT_VERBS

DOMAIN = register(Domain(name="notifications", label=_("消息通知"), verbs=AUDIT_VERBS))
