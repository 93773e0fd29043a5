from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "wenming.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from wenming.core import (
            checks,  # noqa: F401  (registers the system checks)
            registry,
        )

        # Every app's domain.py declares what it offers (menu, home, figures, 我的 …).
        registry.autodiscover()
