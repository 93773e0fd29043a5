from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "wenming.records"
    label = "records"
    verbose_name = _("签到与服务记录")
