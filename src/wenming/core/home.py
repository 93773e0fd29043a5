"""What each domain offers the home page: counters of the actor's scope.

Domains register counters in their AppConfig.ready(), so that the home page never
reaches into other domains' models (the decidim way)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from wenming.core.access import has_perm
from wenming.core.roles import Perm


@dataclass(frozen=True)
class HomeCounter:
    key: str
    label: str | Promise
    perm: Perm
    count: Callable[[Any], int]
    url_name: str | None = None
    order: int = 100


_COUNTERS: dict[str, HomeCounter] = {}


def register_counter(counter: HomeCounter) -> None:
    _COUNTERS[counter.key] = counter


def counters_for(actor: Any) -> list[tuple[HomeCounter, int]]:
    result = []
    for counter in sorted(_COUNTERS.values(), key=lambda c: (c.order, c.key)):
        if has_perm(actor, counter.perm):
            result.append((counter, counter.count(actor)))
    return result
