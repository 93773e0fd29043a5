from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundConfig(AppConfig):
    name = "wenming.fund"
    label = "fund"
    verbose_name = _("文明实践基金")
