"""What each domain offers the home page and the menu: counters of the actor's scope,
big buttons by role, menu entries. Domains declare them in their `domain.py`
(`core.registry`), so that the home page never reaches into other domains' models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise

from wenming.core.access import has_perm
from wenming.core.actor import Principal
from wenming.core.roles import Perm


@dataclass(frozen=True)
class HomeCounter:
    key: str
    label: str | Promise
    perm: Perm
    count: Callable[[Any], int]
    url_name: str | None = None
    order: int = 100


def counters_for(actor: Principal | None) -> list[tuple[HomeCounter, int]]:
    from wenming.core import registry

    result = []
    for counter in registry.home_counters():
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


def in_audience(actor: Principal | None, audience: str, *, is_volunteer: bool) -> bool:
    """Whether the actor is among `audience`: ANYONE, EVERYONE (signed in), VOLUNTEER,
    or the holders of a Perm somewhere."""
    from wenming.core.registry import ANYONE

    if audience == ANYONE:
        return True
    if audience == EVERYONE:
        return bool(getattr(actor, "is_authenticated", False))
    if audience == VOLUNTEER:
        return is_volunteer
    return has_perm(actor, Perm(audience))


def actions_for(actor: Principal | None, *, is_volunteer: bool) -> list[HomeAction]:
    """The actor's home buttons: theirs as a resident, as a volunteer, and as staff."""
    from wenming.core import registry

    return [
        action
        for action in registry.home_actions()
        if in_audience(actor, action.audience, is_volunteer=is_volunteer)
    ]


@dataclass(frozen=True)
class Menu:
    main: list[Any]
    manage: list[Any]
    # Whether 管理 is a drop-down: only when it holds more than everyone's entries.
    manage_dropdown: bool
    keys: frozenset[str]


def menu_for(actor: Principal | None, *, is_volunteer: bool) -> Menu:
    """The menu entries the actor sees, from every registered domain."""
    from wenming.core import registry

    shown = []
    for entry in registry.menu_entries():
        if not in_audience(actor, entry.audience, is_volunteer=is_volunteer):
            continue
        if entry.unless and in_audience(actor, entry.unless, is_volunteer=is_volunteer):
            continue
        shown.append(entry)
    manage = [e for e in shown if e.section == registry.MANAGE]
    return Menu(
        main=[e for e in shown if e.section == registry.MAIN],
        manage=manage,
        manage_dropdown=any(e.audience not in (EVERYONE, registry.ANYONE) for e in manage),
        keys=frozenset(e.key for e in shown),
    )
