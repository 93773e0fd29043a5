from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "wenming.records"
    label = "records"
    verbose_name = _("签到与服务记录")

    def ready(self) -> None:
        from wenming.core.home import VOLUNTEER, HomeAction, register_action

        register_action(
            HomeAction("my_records", _("我的服务记录"), "records:mine", VOLUNTEER,
                       _("每一次服务的时长；有误可以申请更正。"), 33)
        )  # fmt: skip

        from wenming.core.models import VERB_LABELS
        from wenming.records import selectors

        VERB_LABELS.update(selectors.AUDIT_VERBS)

        from wenming.core.demo import Seed, register_seed
        from wenming.records.demo import DEMO_VERB, DEMO_VERB_LABEL, seed_records

        VERB_LABELS[DEMO_VERB] = DEMO_VERB_LABEL
        register_seed(Seed("records", 40, seed_records))
