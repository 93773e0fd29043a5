"""What residents' orders offer the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.core.demo import Seed
from wenming.core.home import EVERYONE, VOLUNTEER, HomeAction
from wenming.core.registry import ANYONE, Domain, Figure, MenuEntry, register
from wenming.core.roles import Perm
from wenming.demands import selectors
from wenming.demands.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_demands

DOMAIN = register(
    Domain(
        name="demands",
        label=_("群众点单"),
        menu=(
            MenuEntry("demands_manage", _("群众点单"), "demands:manage", Perm.DEMAND_VIEW,
                      order=20, element_id="nav-demands-manage"),
            MenuEntry("demands", _("我要点单"), "demands:menu", ANYONE, order=20,
                      unless=Perm.DEMAND_VIEW, element_id="nav-demands"),
            MenuEntry("tasks", _("服务单"), "demands:tasks", VOLUNTEER, order=30,
                      element_id="nav-tasks"),
        ),
        actions=(
            HomeAction("order", _("我要点单"), "demands:menu", EVERYONE,
                       _("需要帮助？选服务，志愿者上门或到站点服务。"), 10),
            HomeAction("my_orders", _("我的点单"), "demands:mine", EVERYONE,
                       _("看看点的单办到哪一步了，催一催，评一评。"), 11),
            HomeAction("tasks", _("服务单"), "demands:tasks", VOLUNTEER,
                       _("派给我和我的服务队的群众点单。"), 32),
            HomeAction("manage_orders", _("群众点单"), "demands:manage", Perm.DEMAND_MANAGE,
                       _("受理、派单、跟进群众的点单。"), 50),
        ),
        counters=tuple(selectors.home_counters()),
        figures=(
            Figure("demands.orders", pgettext_lazy("figure", "群众点单"),
                   pgettext_lazy("figure unit", "单"), Perm.DEMAND_VIEW,
                   selectors.orders_by_child, 40),
            Figure("demands.completed", pgettext_lazy("figure", "办结点单"),
                   pgettext_lazy("figure unit", "单"), Perm.DEMAND_VIEW,
                   selectors.completed_by_child, 41),
        ),
        seeds=(Seed("demands", 50, seed_demands),),
        verbs={**selectors.AUDIT_VERBS, DEMO_VERB: DEMO_VERB_LABEL},
    )
)  # fmt: skip
