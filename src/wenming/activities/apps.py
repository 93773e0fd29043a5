from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "wenming.activities"
    label = "activities"
    verbose_name = _("志愿服务活动")

    def ready(self) -> None:
        from wenming.activities import selectors
        from wenming.core.home import register_counter
        from wenming.core.models import VERB_LABELS

        VERB_LABELS.update(selectors.AUDIT_VERBS)
        for counter in selectors.home_counters():
            register_counter(counter)

        from wenming.activities.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_activities
        from wenming.core.demo import Seed, register_seed

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("activities", 30, seed_activities))
