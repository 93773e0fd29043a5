"""Figures by child region: the shape every domain's `Figure` computes.

`by_child(rows, "region_id", "320305", Count("id"))` groups a queryset by the children
of a region in one query: under a county by town, under a town by village; a village
is its own only child. Keys are 12-digit codes, so the dashboards can name them with
one lookup of the regions."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, QuerySet
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from wenming.core import regions as rc
from wenming.core.access import in_scope, subtree_q
from wenming.core.actor import Principal
from wenming.core.errors import NotFound
from wenming.core.registry import Period, figure


def child_length(prefix: str) -> int:
    """How many digits name a child of the region with this prefix (a village: 12)."""
    return rc.CODE_LENGTH if len(prefix) >= rc.CODE_LENGTH else rc.child_prefix_length(prefix)


def by_child(rows: QuerySet[Any], field: str, prefix: str, value: Aggregate) -> dict[str, float]:
    """{child code: value} over the rows whose `field` lies under `prefix`; one query."""
    size = child_length(prefix)
    grouped = (
        rows.filter(subtree_q(field, prefix))
        .annotate(_child=Substr(field, 1, size))
        .values("_child")
        .annotate(_value=value)
        .values_list("_child", "_value")
        .order_by()
    )
    return {
        child.ljust(rc.CODE_LENGTH, "0"): float(amount or 0) for child, amount in grouped if child
    }


def figure_for(
    *, actor: Principal | None, key: str, region_code: str, period: Period
) -> dict[str, float]:
    """A registered figure for the children of a region the actor may see."""
    item = figure(key)
    try:
        prefix = rc.prefix_of(rc.normalize(region_code))
    except rc.InvalidRegionCode:
        raise NotFound(_("找不到该区划。")) from None
    if not in_scope(actor, item.perm, rc.normalize(region_code)):
        raise NotFound(_("找不到该区划，或它不在您的管辖范围内。"))
    return item.compute(prefix, period)
