from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "wenming.households"
    label = "households"
    verbose_name = _("十必联")
