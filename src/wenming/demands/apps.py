from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "wenming.demands"
    label = "demands"
    verbose_name = _("群众点单")

    def ready(self) -> None:
        from wenming.core.home import register_counter
        from wenming.core.models import VERB_LABELS
        from wenming.demands import selectors

        VERB_LABELS.update(selectors.AUDIT_VERBS)
        for counter in selectors.home_counters():
            register_counter(counter)

        from wenming.core.demo import Seed, register_seed
        from wenming.demands.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_demands

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("demands", 50, seed_demands))
