"""Fixed-window counters in the Django cache (shared by every worker when the cache is
Redis), for anti-abuse limits on what anyone can post without an account.

The window is part of the key (`<key>:<window number>`), so a new window starts a new
counter whatever the cache's expiry does; the expiry only cleans up. Each hit is one
atomic increment."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def _slot_key(key: str, window: int) -> str:
    return f"rl:{key}:{int(timezone.now().timestamp() // window)}"


def count(key: str, window: int) -> int:
    """The hits on `key` so far in the current window, without counting one."""
    return int(cache.get(_slot_key(key, window)) or 0)


def hit(key: str, limit: int, window: int) -> bool:
    """Count one hit on `key` in the current `window`-second window; True while the
    count is within `limit`."""
    full_key = _slot_key(key, window)
    cache.add(full_key, 0, timeout=window)
    try:
        count = cache.incr(full_key)
    except ValueError:  # evicted between add and incr
        cache.add(full_key, 1, timeout=window)
        count = 1
    return count <= limit
