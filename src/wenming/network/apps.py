from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "wenming.network"
    label = "network"
    verbose_name = _("实践网络")

    def ready(self) -> None:
        from wenming.core.home import register_counter
        from wenming.network import selectors

        for counter in selectors.home_counters():
            register_counter(counter)

        from wenming.core.demo import Seed, register_seed
        from wenming.network.demo import seed_network

        register_seed(Seed("network", 10, seed_network))
