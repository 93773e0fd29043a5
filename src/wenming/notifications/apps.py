from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "wenming.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from wenming.core.models import VERB_LABELS
        from wenming.notifications import services

        VERB_LABELS.update(services.AUDIT_VERBS)
