"""The cache: Redis when REDIS_URL is set (production and the CI service), else local memory."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="REDIS_URL is not set: the cache is local memory, there is no Redis to talk to",
)
def test_cache_is_redis_and_round_trips():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert isinstance(caches["default"], RedisCache)
    key = f"test:{uuid.uuid4().hex}"
    value = {"区划": "320305000000", "n": 3}
    assert cache.get(key) is None
    cache.set(key, value, timeout=30)
    assert cache.get(key) == value
    assert cache.add(f"{key}:n", 1)
    assert not cache.add(f"{key}:n", 5)  # add() does not overwrite
    assert cache.incr(f"{key}:n") == 2
    cache.delete_many([key, f"{key}:n"])
    assert cache.get(key) is None


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="REDIS_URL is set")
def test_without_redis_the_cache_is_local_memory():
    assert settings.CACHES["default"]["BACKEND"] == (
        "django.core.cache.backends.locmem.LocMemCache"
    )
    cache.set("k", "值")
    assert cache.get("k") == "值"
