"""Demo data: each domain declares its seeds (core.registry); `wenming demo_load`
runs them in order.

Every seed is idempotent (running it twice changes nothing) and returns how many rows
it created, so that the loader can say what it did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class Seed:
    name: str
    order: int
    run: Callable[[], dict[str, int]]


def demo_load() -> dict[str, dict[str, int]]:
    """Run every registered seed (each is idempotent). What they write is audited as
    demo data, not as the demo person a seed acts as."""
    from wenming.core import registry
    from wenming.core.audit import demo_seeding

    results = {}
    token = demo_seeding.set(True)
    try:
        for seed in registry.seeds():
            with transaction.atomic():
                results[seed.name] = seed.run()
    finally:
        demo_seeding.reset(token)
    return results
