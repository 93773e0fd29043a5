from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "wenming.certificates"
    label = "certificates"
    verbose_name = _("志愿服务证明")
