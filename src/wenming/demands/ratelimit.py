"""Anti-abuse limits on ordering without an account, counted in the Django cache
(shared by every worker when the cache is Redis).

A fixed window per key (see `wenming.core.ratelimit`). Over the limit, the hit is
refused with a clear message and the counter is not reset, so a flood stays refused
until the window ends."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wenming.core import ratelimit
from wenming.core.errors import RuleViolation

# (how many, per how many seconds)
PER_PHONE_HOUR = (3, 3600)
PER_PHONE_DAY = (10, 86400)
PER_IP_HOUR = (20, 3600)


def order_hit(*, phone_digest: str, ip: str) -> None:
    """Count an order from a phone (by its keyed hash, never the number) and an IP."""
    if ip and not ratelimit.hit(f"demands:rl:ip:{ip}", *PER_IP_HOUR):
        raise RuleViolation(
            _("此网络提交的点单太多了，请一小时后再试，或拨打服务热线。"), code="rate_limited"
        )
    if not ratelimit.hit(f"demands:rl:ph:{phone_digest}:h", *PER_PHONE_HOUR):
        raise RuleViolation(
            _("同一手机号一小时内最多点单 %(n)s 次，请稍后再试。") % {"n": PER_PHONE_HOUR[0]},
            code="rate_limited",
            field="phone",
        )
    if not ratelimit.hit(f"demands:rl:ph:{phone_digest}:d", *PER_PHONE_DAY):
        raise RuleViolation(
            _("同一手机号一天内最多点单 %(n)s 次，请明天再试。") % {"n": PER_PHONE_DAY[0]},
            code="rate_limited",
            field="phone",
        )
