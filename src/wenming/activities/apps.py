from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "wenming.activities"
    label = "activities"
    verbose_name = _("志愿服务活动")

    def ready(self) -> None:
        from wenming.core.home import EVERYONE, VOLUNTEER, HomeAction, register_action
        from wenming.core.roles import Perm

        for action in [
            HomeAction("activities", _("志愿活动"), "activities:list", EVERYONE,
                       _("看看最近有什么活动，报名参加。"), 20),
            HomeAction("checkin", _("签到"), "volunteers:me#my-activities", VOLUNTEER,
                       _("到了活动现场，用手机扫签到屏上的二维码。"), 30),
            HomeAction("manage_activities", _("活动管理"), "activities:manage",
                       Perm.ACTIVITY_MANAGE, _("发布活动、签到屏、确认服务时长。"), 52),
        ]:  # fmt: skip
            register_action(action)

        from wenming.activities import selectors
        from wenming.core.home import register_counter
        from wenming.core.models import VERB_LABELS

        VERB_LABELS.update(selectors.AUDIT_VERBS)
        for counter in selectors.home_counters():
            register_counter(counter)

        from wenming.activities.demo import (
            DEMO_VERB,
            DEMO_VERB_LABEL,
            seed_activities,
            seed_checkin_today,
        )
        from wenming.core.demo import Seed, register_seed

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("activities", 30, seed_activities))
        # Every demo load (so every `wenming demo` start), after the records' opening
        # balances: an activity of 马庄 open for check-in now.
        register_seed(Seed("checkin_today", 80, seed_checkin_today))
