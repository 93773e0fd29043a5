"""Who may see and act on an order. The services check these before they read the
input; the pages and selectors ask the same functions for what to show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_id_of
from wenming.core import regions as rc
from wenming.core.access import in_scope, subtree_q
from wenming.core.errors import Forbidden, NotFound
from wenming.core.roles import Perm
from wenming.demands.models import MenuItem, Order, OrderState
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import Team, Volunteer


def require_view(actor: Actor, order: Order) -> None:
    """Outsiders (neither the order's village nor its unit in their scope) get 404."""
    if in_scope(actor, Perm.DEMAND_VIEW, order.region_id) or in_scope(
        actor, Perm.DEMAND_VIEW, order.unit.region_id
    ):
        return
    if is_assignee(actor, order) or order.pk in grabbable_order_ids(actor, [order.pk]):
        return
    raise NotFound(_("找不到该订单，或它不在您的管辖范围内。"))


def can_manage(actor: Actor, order: Order) -> bool:
    return in_scope(actor, Perm.DEMAND_MANAGE, order.unit.region_id)


def require_manager(actor: Actor, order: Order) -> None:
    """Staff over the unit the order has landed on; viewers are read-only (403)."""
    require_view(actor, order)
    if not can_manage(actor, order):
        raise Forbidden(_("只有受理单位的工作人员可以处理该订单。"))


def is_assignee(actor: Actor, order: Order) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    if order.assigned_team_id is not None:
        return order.assigned_team_id in set(teams_led_by(actor))
    if order.assigned_volunteer_id is not None:
        return Volunteer.objects.filter(
            pk=order.assigned_volunteer_id, user_id=user_id_of(actor)
        ).exists()
    return False


def require_assignee(actor: Actor, order: Order) -> None:
    if is_assignee(actor, order):
        return
    require_manager(actor, order)


def eligible_teams(order: Order) -> Any:
    """Teams that may grab an order: the menu item's providing teams, or (for a free
    request, or a menu item without teams) the active teams under the order's unit."""
    if order.menu_item_id is not None:
        teams = Team.objects.filter(
            pk__in=MenuItem.teams.through.objects.filter(menuitem_id=order.menu_item_id).values(
                "team_id"
            ),
            is_active=True,
        )
        if teams.exists():
            return teams
    prefix = rc.prefix_of(order.unit.region_id)
    return Team.objects.filter(subtree_q("region", prefix), is_active=True)


def grabbable_order_ids(actor: Actor, order_ids: Sequence[int] | None = None) -> set[int]:
    """Open orders (state open) that a team the actor leads may grab: the same rule as
    `eligible_teams`, for many orders in three queries."""
    led = set(teams_led_by(actor))
    if not led:
        return set()
    regions = list(
        Team.objects.filter(pk__in=led, is_active=True).values_list("region_id", flat=True)
    )
    orders = Order.objects.filter(state=OrderState.OPEN)
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    rows = list(orders.values_list("pk", "menu_item_id", "unit__region_id"))
    providers: dict[int, set[int]] = {}
    for item_id, team_id in MenuItem.teams.through.objects.filter(
        menuitem_id__in=[r[1] for r in rows if r[1]], team__is_active=True
    ).values_list("menuitem_id", "team_id"):
        providers.setdefault(item_id, set()).add(team_id)
    result = set()
    for pk, item_id, unit_region in rows:
        if item_id in providers:
            if providers[item_id] & led:
                result.add(pk)
        elif any(r.startswith(rc.prefix_of(unit_region)) for r in regions):
            result.add(pk)
    return result
