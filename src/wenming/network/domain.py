"""What the practice network offers the platform (core.registry)."""

from django.utils.translation import gettext_lazy as _

from wenming.core.demo import Seed
from wenming.core.registry import MANAGE, Domain, MenuEntry, register
from wenming.core.roles import Perm
from wenming.core.tenancy import Tenancy, use
from wenming.network import selectors
from wenming.network.demo import seed_network

DOMAIN = register(
    Domain(
        name="network",
        label=_("实践网络"),
        menu=(
            MenuEntry("network", _("实践网络"), "network:tree", Perm.NETWORK_VIEW, MANAGE, 10),
            MenuEntry(
                "units", _("单位列表"), "network:units", Perm.NETWORK_VIEW, MANAGE, 11,
                secondary=True,
            ),
        ),
        counters=tuple(selectors.home_counters()),
        seeds=(Seed("network", 10, seed_network),),
    )
)  # fmt: skip

# The kernel's scoping reads grants and region names through this port (core.tenancy).
use(Tenancy(grants_of_user=selectors.grants_of_user, region_names=selectors.region_names))
