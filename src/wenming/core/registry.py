"""The domain registry: what each domain offers the rest of the platform.

Each domain app has a `domain.py` that builds one `Domain` and calls `register()`;
`CoreConfig.ready()` imports them all (Django's `autodiscover_modules`, as the admin
does). The home page, the menu, the volunteer's 我的 page, the demo loader, the audit
log's verb names, and the dashboards to come read what is registered here, so that
none of them imports another domain's models or views. See docs/architecture.md.

A domain declares:
- `menu`: entries in the top bar (`MAIN`) or the 管理 menu (`MANAGE`);
- `actions`: the big buttons on the home page (`core.home.HomeAction`);
- `counters`: the home page's counters of the actor's scope (`core.home.HomeCounter`);
- `figures`: (region prefix, period) → {child region code: value}, in a constant number
  of queries, for comparing regions (`core.figures`);
- `exports`: the spreadsheets it offers;
- `seeds`: its demo data (`core.demo.Seed`);
- `verbs`: the labels of its audit verbs;
- `panels`: cards on other domains' pages (the volunteer's 我的, a team's page);
- `grants`: which roles get which of its permissions (added to `core.roles.ROLE_PERMS`);
- `ledgers`: its hash-chained ledgers (`core.ledger`), checkpointed and verified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.http import HttpRequest

    from wenming.core.demo import Seed
    from wenming.core.home import HomeAction, HomeCounter
    from wenming.core.roles import Perm

# Where a menu entry sits.
MAIN = "main"  # the top bar
MANAGE = "manage"  # the 管理 drop-down (inline when it would hold only everyone's entries)


@dataclass(frozen=True)
class MenuEntry:
    """A link in the menu. `audience` is `core.home.EVERYONE`, `core.home.VOLUNTEER`,
    `ANYONE` (also signed-out visitors) or a Perm the actor must hold somewhere; an entry
    with `unless` is hidden from who would be shown the `unless` audience (the resident's
    我要点单 gives way to staff's 群众点单). `url` is a URL name, optionally with a query."""

    key: str
    label: str | Promise
    url: str
    audience: str
    section: str = MAIN
    order: int = 100
    unless: str = ""
    element_id: str = ""
    secondary: bool = False  # hidden on narrow laptop screens (see base.css .nav-secondary)

    @property
    def href(self) -> str:
        from django.urls import reverse

        name, sep, rest = self.url.partition("?")
        return reverse(name) + (sep + rest if sep else "")


ANYONE = "anyone"


@dataclass(frozen=True)
class Period:
    """A span of days, both ends included."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("period ends before it starts")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(dt.date(year, month, 1), nxt - dt.timedelta(days=1))

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware datetimes [start 00:00, day after end 00:00) in the current time zone."""
        from django.utils import timezone

        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        stop = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, stop


@dataclass(frozen=True)
class Figure:
    """A number a domain can give for every child region of a region over a period.
    `compute(prefix, period)` returns {12-digit child code: value} (children with
    nothing may be missing) in a constant number of queries; it does not check the
    actor: `figure_for()` does, against `perm`."""

    key: str
    label: str | Promise
    unit: str | Promise
    perm: Perm
    compute: Callable[[str, Period], dict[str, float]]
    order: int = 100


@dataclass(frozen=True)
class Export:
    key: str
    label: str | Promise
    url: str
    perm: Perm


# Pages that show other domains' cards, and what their `context` callables receive.
ME_PAGE = "me"  # the volunteer's 我的: context(request, volunteer)
TEAM_PAGE = "team"  # a service team's page: context(request, team)


@dataclass(frozen=True)
class Panel:
    """A card a domain adds to another domain's page (`ME_PAGE`, `TEAM_PAGE`).
    `context(request, subject)` returns the template's context (read there as `p`), or
    None to leave the card out."""

    page: str
    key: str
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class Domain:
    name: str
    label: str | Promise
    menu: tuple[MenuEntry, ...] = ()
    actions: tuple[HomeAction, ...] = ()
    counters: tuple[HomeCounter, ...] = ()
    figures: tuple[Figure, ...] = ()
    exports: tuple[Export, ...] = ()
    seeds: tuple[Seed, ...] = ()
    verbs: Mapping[str, str | Promise] = field(default_factory=dict)
    panels: tuple[Panel, ...] = ()
    grants: Mapping[str, frozenset[Perm]] = field(default_factory=dict)
    # Audiences the domain defines: who counts as one (e.g. VOLUNTEER: has a volunteer
    # record). The menu and home page remember the answer in the session.
    audiences: Mapping[str, Callable[[Any], bool]] = field(default_factory=dict)
    # Its tamper-evident ledgers (core.ledger subclasses): checkpointed daily and checked
    # by `wenming ledger verify`.
    ledgers: tuple[type[Any], ...] = ()


_DOMAINS: dict[str, Domain] = {}


def register(domain: Domain) -> Domain:
    """Add a domain (again: replaces it, so a reloaded module does not duplicate)."""
    from wenming.core.models import VERB_LABELS
    from wenming.core.roles import ROLE_PERMS

    for kind, keys in (
        ("menu", [m.key for m in domain.menu]),
        ("figure", [f.key for f in domain.figures]),
        ("panel", [f"{p.page}.{p.key}" for p in domain.panels]),
    ):
        for key in keys:
            for other in _DOMAINS.values():
                if other.name != domain.name and key in _keys(other, kind):
                    raise ValueError(f"{kind} {key!r} of {domain.name} is {other.name}'s")
    _DOMAINS[domain.name] = domain
    VERB_LABELS.update(domain.verbs)
    for role, perms in domain.grants.items():
        ROLE_PERMS[role] = ROLE_PERMS.get(role, frozenset()) | perms
    return domain


def _keys(domain: Domain, kind: str) -> set[str]:
    items: tuple[Any, ...] = {
        "menu": domain.menu,
        "figure": domain.figures,
        "panel": domain.panels,
    }[kind]
    if kind == "panel":
        return {f"{item.page}.{item.key}" for item in items}
    return {item.key for item in items}


def domains() -> Iterator[Domain]:
    return iter(_DOMAINS.values())


def get(name: str) -> Domain:
    return _DOMAINS[name]


def autodiscover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("domain")


# ---------------------------------------------------------------- readers


def _sorted(items: Iterator[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (item.order, item.key))


def menu_entries() -> list[MenuEntry]:
    return _sorted(m for d in domains() for m in d.menu)


def home_actions() -> list[HomeAction]:
    return _sorted(a for d in domains() for a in d.actions)


def home_counters() -> list[HomeCounter]:
    return _sorted(c for d in domains() for c in d.counters)


def figures() -> list[Figure]:
    return _sorted(f for d in domains() for f in d.figures)


def figure(key: str) -> Figure:
    for item in figures():
        if item.key == key:
            return item
    raise KeyError(key)


def exports() -> list[Export]:
    return sorted((e for d in domains() for e in d.exports), key=lambda e: e.key)


def seeds() -> list[Seed]:
    return sorted((s for d in domains() for s in d.seeds), key=lambda s: (s.order, s.name))


def ledgers() -> list[type[Any]]:
    return [model for d in domains() for model in d.ledgers]


def audience_test(audience: str) -> Callable[[Any], bool]:
    for domain in domains():
        if audience in domain.audiences:
            return domain.audiences[audience]
    raise KeyError(audience)


def panels(page: str) -> list[Panel]:
    return _sorted(p for d in domains() for p in d.panels if p.page == page)


@dataclass(frozen=True)
class ShownPanel:
    key: str
    template: str
    context: dict[str, Any]


def panels_for(page: str, request: HttpRequest, subject: Any) -> list[ShownPanel]:
    """A page's cards from every domain that has something to show for `subject`."""
    shown = []
    for panel in panels(page):
        context = panel.context(request, subject)
        if context is not None:
            shown.append(ShownPanel(panel.key, panel.template, context))
    return shown
