"""Fixed-window counters in the Django cache (shared by every worker when the cache is
Redis), for anti-abuse limits on what anyone can post without an account.

The window is part of the key (`<key>:<window number>`), so a new window starts a new
counter whatever the cache's expiry does; the expiry only cleans up. Each hit is one
atomic increment."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def hit(key: str, limit: int, window: int) -> bool:
    """Count one hit on `key` in the current `window`-second window; True while the
    count is within `limit`."""
    slot = int(timezone.now().timestamp() // window)
    full_key = f"rl:{key}:{slot}"
    cache.add(full_key, 0, timeout=window)
    try:
        count = cache.incr(full_key)
    except ValueError:  # evicted between add and incr
        cache.add(full_key, 1, timeout=window)
        count = 1
    return count <= limit
