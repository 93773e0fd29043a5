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


# ---------------------------------------------------------------- what each role does

EVERYONE = "everyone"  # any logged-in person, a resident first of all
VOLUNTEER = "volunteer"  # a logged-in person with a volunteer record


@dataclass(frozen=True)
class HomeAction:
    """A big button on the home page, leading to what a role does. `audience` is
    EVERYONE, VOLUNTEER, or a Perm the actor must hold somewhere; `url` is a URL name,
    optionally followed by a query or an anchor (`volunteers:list?status=pending`)."""

    key: str
    label: str | Promise
    url: str
    audience: str
    hint: str | Promise = ""
    order: int = 100

    @property
    def href(self) -> str:
        from django.urls import reverse

        name, sep, rest = self.url.partition("?") if "?" in self.url else self.url.partition("#")
        return reverse(name) + (sep + rest if sep else "")


_ACTIONS: dict[str, HomeAction] = {}


def register_action(action: HomeAction) -> None:
    _ACTIONS[action.key] = action


def actions_for(actor: Any, *, is_volunteer: bool) -> list[HomeAction]:
    """The actor's home buttons: theirs as a resident, as a volunteer, and as staff."""
    shown = []
    for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key)):
        if action.audience == EVERYONE:
            ok = bool(getattr(actor, "is_authenticated", False))
        elif action.audience == VOLUNTEER:
            ok = is_volunteer
        else:
            ok = has_perm(actor, Perm(action.audience))
        if ok:
            shown.append(action)
    return shown
