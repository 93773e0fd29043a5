from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "wenming.volunteers"
    label = "volunteers"
    verbose_name = _("志愿者")

    def ready(self) -> None:
        from wenming.core.home import VOLUNTEER, HomeAction, register_action
        from wenming.core.roles import Perm

        for action in [
            HomeAction("me", _("我的"), "volunteers:me", VOLUNTEER,
                       _("我的报名、服务时长、星级和证明。"), 31),
            HomeAction("teams", _("服务队"), "teams:list", VOLUNTEER,
                       _("我加入的服务队，申请加入新的服务队。"), 34),
            HomeAction("review_volunteers", _("审核志愿者"), "volunteers:list?status=pending",
                       Perm.VOLUNTEER_MANAGE, _("新注册的志愿者等您审核。"), 51),
        ]:  # fmt: skip
            register_action(action)

        from wenming.core.home import register_counter
        from wenming.core.models import VERB_LABELS
        from wenming.volunteers import selectors

        for counter in selectors.home_counters():
            register_counter(counter)
        VERB_LABELS.update(selectors.AUDIT_VERBS)

        from wenming.core.demo import Seed, register_seed
        from wenming.volunteers.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_volunteers

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("volunteers", 20, seed_volunteers))
        from wenming.volunteers.excel import AUDIT_VERBS as EXCEL_VERBS

        VERB_LABELS.update(EXCEL_VERBS)
