"""The one scoping helper. Every read of scoped data and every write check goes here.

An actor's scope for a permission is the set of code prefixes of its active grants whose
role carries that permission. A row is in scope when its region code starts with one of
those prefixes. Subtrees are selected with a range on the 12-digit code
(`prefix000…` to `prefix999…`), which uses the ordinary b-tree index on every database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from wenming.core import tenancy
from wenming.core.actor import Principal
from wenming.core.errors import Forbidden, NotFound
from wenming.core.regions import CODE_LENGTH, prefix_of
from wenming.core.roles import ROLE_PERMS, Perm

M = TypeVar("M", bound=models.Model)

_CACHE_ATTR = "_wenming_grants"


@dataclass(frozen=True)
class Grant:
    role: str
    region_code: str
    prefix: str


def grants_of(actor: Principal | None) -> list[Grant]:
    """The actor's active grants, loaded once per user object (one query)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return []
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is None:
        rows = tenancy.current().grants_of_user(actor.pk)
        cached = [Grant(role, code, prefix_of(code)) for role, code in rows]
        setattr(actor, _CACHE_ATTR, cached)
    return cached


def forget_grants(actor: Principal | None) -> None:
    """Drop the per-object grant cache after grants change."""
    if actor is not None and hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def minimal_prefixes(prefixes: Iterable[str]) -> list[str]:
    """Drop prefixes covered by a shorter one: ["32", "320305"] → ["32"]."""
    result: list[str] = []
    for prefix in sorted(set(prefixes), key=len):
        if not any(prefix.startswith(kept) for kept in result):
            result.append(prefix)
    return sorted(result)


def prefixes_for(actor: Principal | None, perm: Perm) -> list[str]:
    return minimal_prefixes(g.prefix for g in grants_of(actor) if perm in ROLE_PERMS[g.role])


def has_perm(actor: Principal | None, perm: Perm) -> bool:
    return bool(prefixes_for(actor, perm))


def roles_of(actor: Principal | None) -> set[str]:
    return {g.role for g in grants_of(actor)}


def subtree_q(field: str, prefix: str) -> Q:
    """Rows whose `field` (a 12-digit code) lies under `prefix`."""
    if not prefix:
        return Q()
    # isascii(): str.isdigit() also accepts "３" and "²", which would build a range
    # of non-ASCII strings.
    if not (prefix.isascii() and prefix.isdigit()) or len(prefix) > CODE_LENGTH:
        return Q(pk__in=[])  # junk input selects nothing
    pad = CODE_LENGTH - len(prefix)
    # gte/lte rather than range or startswith: they work on foreign-key columns too.
    return Q(**{f"{field}__gte": prefix + "0" * pad, f"{field}__lte": prefix + "9" * pad})


def scope_q(actor: Principal | None, perm: Perm, field: str) -> Q:
    prefixes = prefixes_for(actor, perm)
    if not prefixes:
        return Q(pk__in=[])
    query = Q()
    for prefix in prefixes:
        query |= subtree_q(field, prefix)
    return query


def scoped(
    queryset: models.QuerySet[M], actor: Principal | None, perm: Perm, field: str
) -> models.QuerySet[M]:
    """Filter `queryset` to the rows the actor may see under `perm`."""
    return queryset.filter(scope_q(actor, perm, field))


def in_scope(actor: Principal | None, perm: Perm, region_code: str) -> bool:
    return any(region_code.startswith(p) for p in prefixes_for(actor, perm))


def require(actor: Principal | None, perm: Perm, region_code: str, *, view_perm: Perm) -> None:
    """Refuse an action on something at `region_code`.

    Outside the actor's view scope it does not exist for them (NotFound, 404); inside it
    but without `perm` the actor is read-only there (Forbidden, 403).
    """
    if in_scope(actor, perm, region_code):
        return
    if in_scope(actor, view_perm, region_code):
        raise Forbidden(_("您没有权限执行此操作。"))
    raise NotFound(_("找不到该对象，或它不在您的管辖范围内。"))


def actor_label(actor: Principal | None) -> str:
    if actor is None:
        return "系统"
    return f"{getattr(actor, 'name', '')} (#{actor.pk})"
