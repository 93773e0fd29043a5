"""Reads about resident demand: the public menu and board (no personal data), staff
lists scoped to DEMAND_VIEW, the assignee's tasks, and the figures per unit."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor, user_id_of, user_or_none
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import grants_of, in_scope, scope_q, scoped, subtree_q
from wenming.core.errors import NotFound
from wenming.core.figures import by_child
from wenming.core.home import HomeCounter
from wenming.core.registry import Period
from wenming.core.roles import Perm
from wenming.demands.models import (
    DONE_STATES,
    MenuItem,
    Order,
    OrderEvent,
    OrderPhoto,
    OrderState,
)
from wenming.demands.permissions import grabbable_order_ids, require_view
from wenming.network.models import Region, Unit
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import MembershipStatus, Team, Volunteer, VolunteerStatus

AUDIT_VERBS = {
    "menu.create": pgettext_lazy("audit verb", "新建服务菜单项"),
    "menu.update": pgettext_lazy("audit verb", "修改服务菜单项"),
    "order.submit": pgettext_lazy("audit verb", "群众点单"),
    "order.accept": pgettext_lazy("audit verb", "受理点单"),
    "order.reject": pgettext_lazy("audit verb", "不予受理点单"),
    "order.dispatch": pgettext_lazy("audit verb", "派单"),
    "order.open_grab": pgettext_lazy("audit verb", "发布抢单"),
    "order.recall": pgettext_lazy("audit verb", "收回订单"),
    "order.take": pgettext_lazy("audit verb", "接单"),
    "order.grab": pgettext_lazy("audit verb", "抢单"),
    "order.decline": pgettext_lazy("audit verb", "拒单"),
    "order.complete": pgettext_lazy("audit verb", "办结订单"),
    "order.rate": pgettext_lazy("audit verb", "评价订单"),
    "order.cancel": pgettext_lazy("audit verb", "关闭订单"),
    "order.withdraw": pgettext_lazy("audit verb", "群众撤单"),
    "order.remind": pgettext_lazy("audit verb", "群众催单"),
    "order.escalate": pgettext_lazy("audit verb", "超时上报"),
    "order.reveal": pgettext_lazy("audit verb", "查看点单联系方式"),
}


# ---------------------------------------------------------------- the public


def menu_for_village(region_code: str) -> list[tuple[Region, list[MenuItem]]]:
    """The menus a resident of a village sees: the village's (its station and points),
    the town's and the county's, nearest first. Two queries."""
    if not rc.is_valid(region_code) or rc.level_of(region_code) != rc.Level.VILLAGE:
        return []
    codes = menu_regions(region_code)
    regions = Region.objects.in_bulk(codes)
    items = (
        MenuItem.objects.filter(region_id__in=codes, is_active=True, unit__is_active=True)
        .select_related("unit", "subcategory")
        .order_by("work_item", "title", "id")
    )
    grouped: dict[str, list[MenuItem]] = {code: [] for code in codes}
    for item in items:
        grouped[item.region_id].append(item)
    return [(regions[c], grouped[c]) for c in codes if c in regions]


def public_board(*, town: str = "") -> QuerySet[Order]:
    """Completed orders for the public board (公示): no personal data is selected."""
    orders = Order.objects.filter(state__in=DONE_STATES)
    if town and rc.is_valid(town):
        orders = orders.filter(subtree_q("region", rc.prefix_of(town)))
    return (
        orders.select_related("region", "assigned_team", "unit")
        .only(
            "id", "title", "kind", "work_item", "state", "completed_at", "rating",
            "region__name", "assigned_team__name", "unit__name", "assigned_volunteer_id",
        )
        .order_by("-completed_at", "-id")
    )  # fmt: skip


def public_timeline(order: Order) -> QuerySet[OrderEvent]:
    return order.events.filter(public=True).order_by("at", "id")


def villages() -> QuerySet[Region]:
    return Region.objects.filter(level=rc.Level.VILLAGE).order_by("code")


def towns() -> QuerySet[Region]:
    return Region.objects.filter(level=rc.Level.TOWN).order_by("code")


# ---------------------------------------------------------------- staff


def _order_scope(actor: Actor) -> Q:
    return scope_q(actor, Perm.DEMAND_VIEW, "region") | scope_q(
        actor, Perm.DEMAND_VIEW, "unit__region"
    )


def staff_order_list(
    *, actor: Actor, state: str = "", search: str = "", low: bool = False
) -> QuerySet[Order]:
    """Orders in the actor's DEMAND_VIEW scope (the resident's village or the unit it
    is with), newest first; search by order number or exact phone number."""
    orders = Order.objects.filter(_order_scope(actor))
    if state in OrderState.values:
        orders = orders.filter(state=state)
    if low:
        orders = orders.filter(low_rating=True)
    search = (search or "").strip()
    if search:
        query = Q(number__iexact=search) | Q(title__icontains=search)
        digits = search.replace(" ", "")
        if digits.isdigit() and len(digits) == 11:
            query |= Q(requester_phone_digest__in=crypto.digests(digits))
        orders = orders.filter(query)
    return orders.select_related(
        "unit", "region", "assigned_team", "assigned_volunteer", "menu_item"
    ).order_by("-requested_at", "-id")


def staff_order(*, actor: Actor, order_id: int) -> Order:
    """One order for its detail page: staff in scope, the assignee, or a leader of a
    team that may grab it; anyone else 404."""
    order = (
        Order.objects.select_related(
            "unit", "region", "assigned_team", "assigned_volunteer", "menu_item", "created_by"
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("找不到该订单。"))
    require_view(actor, order)
    return order


def staff_timeline(order: Order) -> QuerySet[OrderEvent]:
    return order.events.select_related("team", "volunteer", "unit").order_by("at", "id")


def order_photos(order: Order) -> QuerySet[OrderPhoto]:
    return order.photos.order_by("id")


def photo_for(*, actor: Actor, photo_id: int) -> OrderPhoto:
    photo = OrderPhoto.objects.select_related("order").filter(pk=photo_id).first()
    if photo is None:
        raise NotFound(_("找不到该照片。"))
    staff_order(actor=actor, order_id=photo.order_id)
    return photo


def my_tasks(*, actor: Actor) -> dict[str, list[Order]]:
    """For a team leader or volunteer: orders dispatched to them, being served by them,
    and open ones their teams may grab."""
    teams = set(teams_led_by(actor))
    mine = Q(assigned_team_id__in=teams)
    if getattr(actor, "is_authenticated", False):
        mine |= Q(assigned_volunteer__user_id=user_id_of(actor))
    base = Order.objects.select_related("region", "unit", "assigned_team", "menu_item")
    grab_ids = grabbable_order_ids(actor)
    return {
        "dispatched": list(base.filter(mine, state=OrderState.DISPATCHED).order_by("respond_by")),
        "taken": list(base.filter(mine, state=OrderState.TAKEN).order_by("complete_by")),
        "open": list(base.filter(pk__in=grab_ids).order_by("requested_at")),
        "done": list(base.filter(mine, state__in=DONE_STATES).order_by("-completed_at")[:10]),
    }


def led_teams(actor: Actor) -> QuerySet[Team]:
    return Team.objects.filter(pk__in=set(teams_led_by(actor))).order_by("name")


def team_members(order: Order) -> list[Volunteer]:
    if order.assigned_team_id:
        return list(
            Volunteer.objects.filter(
                memberships__team_id=order.assigned_team_id,
                memberships__status=MembershipStatus.ACTIVE,
                status=VolunteerStatus.ACTIVE,
            ).order_by("name", "id")
        )
    if order.assigned_volunteer_id:
        return list(Volunteer.objects.filter(pk=order.assigned_volunteer_id))
    return []


def staff_menu_list(*, actor: Actor) -> QuerySet[MenuItem]:
    return (
        scoped(MenuItem.objects.all(), actor, Perm.DEMAND_VIEW, "region")
        .select_related("unit", "subcategory")
        .order_by("region_id", "title", "id")
    )


def menu_item_for(*, actor: Actor, item_id: int) -> MenuItem:
    item = MenuItem.objects.select_related("unit").filter(pk=item_id).first()
    if item is None or not in_scope(actor, Perm.DEMAND_VIEW, item.region_id):
        raise NotFound(_("找不到该服务项目。"))
    return item


def managed_units(actor: Actor) -> QuerySet[Unit]:
    return scoped(
        Unit.objects.filter(is_active=True), actor, Perm.DEMAND_MANAGE, "region"
    ).order_by("region_id", "kind", "name")


def teams_for_menu(actor: Actor) -> QuerySet[Team]:
    return scoped(Team.objects.filter(is_active=True), actor, Perm.DEMAND_VIEW, "region").order_by(
        "name"
    )


# ---------------------------------------------------------------- figures


@dataclass
class UnitFigures:
    unit: Unit
    by_state: dict[str, int]
    total: int
    median_accept_hours: float | None
    median_complete_hours: float | None
    on_time_share: float | None
    average_rating: float | None
    low_ratings: int


def _hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


class _Median(Aggregate):
    """PostgreSQL's exact median of an interval, in hours."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def _medians(orders: QuerySet[Order], start: str, end: str) -> dict[int, float]:
    """Per unit, the median hours from `start` to `end` over the orders that have both:
    one grouped query on PostgreSQL; SQLite has no median, so there only the durations
    (two columns of the orders that have them) are read and the median taken here."""
    having = orders.filter(**{f"{end}__isnull": False})
    if connection.vendor == "postgresql":
        rows = having.values("unit_id").annotate(m=_Median(F(end) - F(start)))
        return {r["unit_id"]: r["m"] / 3600 for r in rows}
    spans: dict[int, list[float]] = {}
    for unit_id, a, b in having.values_list("unit_id", start, end).iterator(chunk_size=5000):
        spans.setdefault(unit_id, []).append(_hours(b - a))
    return {unit_id: statistics.median(values) for unit_id, values in spans.items()}


def unit_figures(*, actor: Actor, unit_id: int | None = None) -> list[UnitFigures]:
    """Per unit in the actor's DEMAND_VIEW scope, over the orders currently with it:
    orders by state, median hours from ordering to being taken on and to completion,
    the share of completed orders done by their deadline, the average rating. Grouped
    in the database, in a fixed number of queries however many orders there are."""
    units = scoped(Unit.objects.filter(is_active=True), actor, Perm.DEMAND_VIEW, "region")
    if unit_id is not None:
        units = units.filter(pk=unit_id)
    orders = Order.objects.filter(unit__in=units).order_by()
    by_state: dict[int, dict[str, int]] = {}
    for row in orders.values("unit_id", "state").annotate(n=Count("id")):
        by_state.setdefault(row["unit_id"], dict.fromkeys(OrderState.values, 0))[row["state"]] = (
            row["n"]
        )
    done = Q(completed_at__isnull=False, complete_by__isnull=False)
    totals = {
        row["unit_id"]: row
        for row in orders.values("unit_id").annotate(
            total=Count("id"),
            timed=Count("id", filter=done),
            on_time=Count("id", filter=done & Q(completed_at__lte=F("complete_by"))),
            rating_avg=Avg("rating", filter=Q(rating__isnull=False)),
            low=Count("id", filter=Q(low_rating=True)),
        )
    }
    accept = _medians(orders, "requested_at", "taken_at")
    complete = _medians(orders, "requested_at", "completed_at")
    result = []
    for unit in units.filter(pk__in=list(totals)).order_by("region_id", "kind", "name"):
        t = totals[unit.pk]
        result.append(
            UnitFigures(
                unit=unit,
                by_state=by_state[unit.pk],
                total=t["total"],
                median_accept_hours=round(accept[unit.pk], 1) if unit.pk in accept else None,
                median_complete_hours=(
                    round(complete[unit.pk], 1) if unit.pk in complete else None
                ),
                on_time_share=round(t["on_time"] / t["timed"], 3) if t["timed"] else None,
                average_rating=(
                    round(float(t["rating_avg"]), 2) if t["rating_avg"] is not None else None
                ),
                low_ratings=t["low"],
            )
        )
    return result


def home_counters() -> list[HomeCounter]:
    def waiting(actor: Actor) -> int:
        return Order.objects.filter(
            scope_q(actor, Perm.DEMAND_MANAGE, "unit__region"),
            state__in=[OrderState.SUBMITTED, OrderState.ACCEPTED],
        ).count()

    return [
        HomeCounter(
            key="demands.waiting",
            label=_("待处理点单"),
            perm=Perm.DEMAND_MANAGE,
            count=waiting,
            url_name="demands:manage",
            order=60,
        )
    ]


def my_orders(*, actor: Actor) -> QuerySet[Order]:
    """The orders the logged-in account placed itself (我的点单), newest first."""
    user_id = user_id_of(actor)
    return (
        Order.objects.filter(requester_id=user_id)
        .select_related("unit", "region", "menu_item")
        .order_by("-requested_at", "-pk")
    )


def order_form_initial(*, actor: Actor) -> dict[str, str]:
    """What the order form can fill in for a logged-in person: name, phone and their
    village (from their volunteer record, else a role granted at a village)."""
    from wenming.volunteers.models import Volunteer

    user = user_or_none(actor)
    if user is None:
        return {}
    initial = {"name": user.name, "phone": user.phone}
    village = (
        Volunteer.objects.filter(user_id=user_id_of(actor))
        .values_list("region_id", flat=True)
        .first()
    )
    if not village or rc.level_of(village) != rc.Level.VILLAGE:
        village = next(
            (
                g.region_code
                for g in grants_of(actor)
                if rc.level_of(g.region_code) == rc.Level.VILLAGE
            ),
            "",
        )
    if village:
        initial["region_code"] = village
    return initial


def orders_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Orders placed in the period, by the resident's village."""
    start, stop = period.bounds()
    rows = Order.objects.filter(requested_at__gte=start, requested_at__lt=stop)
    return by_child(rows, "region_id", prefix, Count("id"))


def completed_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Orders served (completed, rated or not) in the period, by the resident's village."""
    start, stop = period.bounds()
    rows = Order.objects.filter(completed_at__gte=start, completed_at__lt=stop)
    return by_child(rows, "region_id", prefix, Count("id"))


def menu_regions(region_code: str) -> list[str]:
    """The region codes whose menus a resident of a village sees: the village, its
    town and its county."""
    codes = [region_code]
    ancestors = rc.ancestors_of(region_code)
    for code in reversed(ancestors):
        if rc.level_of(code) < rc.Level.COUNTY:
            break
        codes.append(code)
    return codes
