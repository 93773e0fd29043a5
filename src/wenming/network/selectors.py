"""Reads of the practice network, already scoped to the actor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.models import User
from wenming.accounts.types import Actor
from wenming.core.access import in_scope, scoped, subtree_q
from wenming.core.errors import NotFound
from wenming.core.home import HomeCounter
from wenming.core.regions import Level
from wenming.core.roles import STAFF_ROLES, Perm
from wenming.core.tenancy import RegionName
from wenming.network.models import Region, RoleGrant, Unit, UnitKind


def unit_list(
    *, actor: Actor, search: str = "", kind: str = "", region_prefix: str = ""
) -> QuerySet[Unit]:
    qs = scoped(Unit.objects.all(), actor, Perm.NETWORK_VIEW, "region_id")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(region__name__icontains=search))
    if kind:
        qs = qs.filter(kind=kind)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    return qs.select_related("region", "parent").order_by("region_id", "kind", "name")


def unit_get(*, actor: Actor, unit_id: int) -> Unit:
    """A unit in the actor's view scope, else NotFound (an outsider learns nothing)."""
    try:
        return (
            scoped(Unit.objects.all(), actor, Perm.NETWORK_VIEW, "region_id")
            .select_related("region", "parent")
            .get(pk=unit_id)
        )
    except Unit.DoesNotExist as exc:
        raise NotFound(_("找不到该单位，或它不在您的管辖范围内。")) from exc


def unit_roots(*, actor: Actor) -> QuerySet[Unit]:
    """The top of the tree the actor sees: units in scope whose parent is out of scope."""
    visible = scoped(Unit.objects.all(), actor, Perm.NETWORK_VIEW, "region_id")
    return (
        visible.exclude(parent__in=visible)
        .select_related("region")
        .annotate(child_count=Count("children"))
        .order_by("region_id", "kind", "name")
    )


def unit_children(*, actor: Actor, unit: Unit) -> QuerySet[Unit]:
    return (
        scoped(unit.children.all(), actor, Perm.NETWORK_VIEW, "region_id")
        .select_related("region")
        .annotate(child_count=Count("children"))
        .order_by("kind", "region_id", "name")
    )


def unit_staff(*, actor: Actor, unit: Unit) -> QuerySet[RoleGrant]:
    """Staff roles held at this unit, or (for a center, institute or station) on its
    region without a unit. Volunteers and residents are not staff."""
    here = Q(unit=unit)
    if unit.kind != UnitKind.POINT:
        here |= Q(unit__isnull=True, region_id=unit.region_id)
    return (
        scoped(RoleGrant.objects.all(), actor, Perm.NETWORK_VIEW, "region_id")
        .filter(revoked_at__isnull=True, role__in=STAFF_ROLES)
        .filter(here)
        .select_related("user", "region", "unit")
        .order_by("role", "user__name")
    )


def unit_ancestors(unit: Unit) -> list[Unit]:
    """Breadcrumb from the top of the tree (few levels: at most four queries)."""
    chain = []
    current = unit.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


def region_get(*, actor: Actor, code: str, perm: Perm = Perm.NETWORK_VIEW) -> Region:
    if not in_scope(actor, perm, code):
        raise NotFound(_("找不到该区划，或它不在您的管辖范围内。"))
    try:
        return Region.objects.get(code=code)
    except Region.DoesNotExist as exc:
        raise NotFound(_("找不到该区划，或它不在您的管辖范围内。")) from exc


def region_list(
    *, actor: Actor, parent_code: str | None = None, search: str = ""
) -> QuerySet[Region]:
    qs = scoped(Region.objects.all(), actor, Perm.NETWORK_VIEW, "code")
    if parent_code:
        qs = qs.filter(parent_id=parent_code)
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.order_by("code")


def grant_list(*, actor: Actor, perm: Perm = Perm.NETWORK_VIEW) -> QuerySet[RoleGrant]:
    return (
        scoped(RoleGrant.objects.all(), actor, perm, "region_id")
        .filter(revoked_at__isnull=True)
        .select_related("user", "region", "unit")
    )


def grant_get(*, actor: Actor, grant_id: int) -> RoleGrant:
    try:
        return grant_list(actor=actor).get(pk=grant_id)
    except RoleGrant.DoesNotExist as exc:
        raise NotFound(_("找不到该授权，或它不在您的管辖范围内。")) from exc


def _count_units(kind: str) -> Any:
    def count(actor: Actor) -> int:
        return scoped(Unit.objects.filter(kind=kind), actor, Perm.NETWORK_VIEW, "region_id").count()

    return count


def _count_villages(actor: Actor) -> int:
    return scoped(
        Region.objects.filter(level=Level.VILLAGE), actor, Perm.NETWORK_VIEW, "code"
    ).count()


def _count_staff(actor: Actor) -> int:
    return grant_list(actor=actor).values("user_id").distinct().count()


def home_counters() -> list[HomeCounter]:
    return [
        HomeCounter(
            "network.centers",
            pgettext_lazy("home counter", "实践中心"),
            Perm.NETWORK_VIEW,
            _count_units(UnitKind.CENTER),
            "network:tree",
            10,
        ),
        HomeCounter(
            "network.institutes",
            pgettext_lazy("home counter", "实践所"),
            Perm.NETWORK_VIEW,
            _count_units(UnitKind.INSTITUTE),
            "network:tree",
            11,
        ),
        HomeCounter(
            "network.stations",
            pgettext_lazy("home counter", "实践站"),
            Perm.NETWORK_VIEW,
            _count_units(UnitKind.STATION),
            "network:tree",
            12,
        ),
        HomeCounter(
            "network.points",
            pgettext_lazy("home counter", "实践点"),
            Perm.NETWORK_VIEW,
            _count_units(UnitKind.POINT),
            "network:units",
            13,
        ),
        HomeCounter(
            "network.villages",
            pgettext_lazy("home counter", "村（社区）"),
            Perm.NETWORK_VIEW,
            _count_villages,
            None,
            14,
        ),
        HomeCounter(
            "network.staff",
            pgettext_lazy("home counter", "工作人员"),
            Perm.NETWORK_VIEW,
            _count_staff,
            None,
            15,
        ),
    ]


def staff_on_duty(region_code: str, *, roles: Iterable[str]) -> list[User]:
    """The active people holding a live grant of one of `roles` on exactly this region
    (the staff a domain tells when something lands there). One query."""
    return list(
        User.objects.filter(
            is_active=True,
            grants__region_id=region_code,
            grants__role__in=list(roles),
            grants__revoked_at__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )


def grants_of_user(user_id: int) -> list[tuple[str, str]]:
    """The user's live grants as (role, region code): core.access's source (one query)."""
    return list(
        RoleGrant.objects.filter(user_id=user_id, revoked_at__isnull=True).values_list(
            "role", "region_id"
        )
    )


def region_names(codes: Iterable[str]) -> list[RegionName]:
    return [
        RegionName(code, name)
        for code, name in Region.objects.filter(code__in=list(codes))
        .order_by("code")
        .values_list("code", "name")
    ]
