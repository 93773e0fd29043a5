from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "wenming.certificates"
    label = "certificates"
    verbose_name = _("志愿服务证明")

    def ready(self) -> None:
        from wenming.certificates import selectors
        from wenming.core.models import VERB_LABELS

        VERB_LABELS.update(selectors.AUDIT_VERBS)

        from wenming.certificates.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_certificates
        from wenming.core.demo import Seed, register_seed

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("certificates", 60, seed_certificates))
