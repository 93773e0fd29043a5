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

        from wenming.core.home import EVERYONE, VOLUNTEER, HomeAction, register_action
        from wenming.core.roles import Perm

        for action in [
            HomeAction("order", _("我要点单"), "demands:menu", EVERYONE,
                       _("需要帮助？选服务，志愿者上门或到站点服务。"), 10),
            HomeAction("my_orders", _("我的点单"), "demands:mine", EVERYONE,
                       _("看看点的单办到哪一步了，催一催，评一评。"), 11),
            HomeAction("tasks", _("服务单"), "demands:tasks", VOLUNTEER,
                       _("派给我和我的服务队的群众点单。"), 32),
            HomeAction("manage_orders", _("群众点单"), "demands:manage", Perm.DEMAND_MANAGE,
                       _("受理、派单、跟进群众的点单。"), 50),
        ]:  # fmt: skip
            register_action(action)

        from wenming.core.demo import Seed, register_seed
        from wenming.demands.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_demands

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("demands", 50, seed_demands))
