from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "wenming.households"
    label = "households"
    verbose_name = _("十必联")

    def ready(self) -> None:
        from wenming.core.home import HomeAction, register_action
        from wenming.core.roles import Perm

        register_action(
            HomeAction("households", _("十必联"), "households:events?state=open",
                       Perm.HOUSEHOLD_MANAGE, _("包挂家庭的急事、难事，及时联系。"), 53)
        )  # fmt: skip

        from wenming.core.home import register_counter
        from wenming.core.models import VERB_LABELS
        from wenming.households import selectors

        VERB_LABELS.update(selectors.AUDIT_VERBS)
        from wenming.households.excel import AUDIT_VERBS as EXCEL_VERBS

        VERB_LABELS.update(EXCEL_VERBS)
        for counter in selectors.home_counters():
            register_counter(counter)

        from wenming.core.demo import Seed, register_seed
        from wenming.households.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_households

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("households", 70, seed_households))
