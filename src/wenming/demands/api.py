"""The resident-demand API: the public menu, board, ordering and private-link steps
(no login); staff lists, detail, candidates, actions, the menu and figures; the
assignee's tasks — all through the same services and selectors as the pages."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging, input_of, input_schema
from wenming.core.middleware import client_ip
from wenming.demands import permissions, ranking, selectors, services
from wenming.demands.models import MenuItem, Order, OrderEvent

router = Router(tags=["demands"])


class MenuItemOut(Schema):
    id: int
    code: str
    title: str
    work_item: str
    subcategory_id: int | None
    description: str
    delivery_mode: str
    response_hours: int
    complete_hours: int
    unit_id: int
    unit_name: str
    region_code: str
    team_ids: list[int]
    is_active: bool

    @staticmethod
    def resolve_unit_name(obj: MenuItem) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_region_code(obj: MenuItem) -> str:
        return obj.region_id

    @staticmethod
    def resolve_team_ids(obj: MenuItem) -> list[int]:
        return [t.pk for t in obj.teams.all()]


# The body of a menu item's create and update: the service's MenuItemInput.
if TYPE_CHECKING:
    MenuItemIn = services.MenuItemInput
else:
    MenuItemIn = input_schema(services.MenuItemInput, "MenuItemIn")


class BoardOut(Schema):
    id: int
    title: str
    kind: str
    work_item: str
    region_name: str
    team_name: str | None
    completed_at: dt.datetime | None
    rating: int | None

    @staticmethod
    def resolve_region_name(obj: Order) -> str:
        return obj.region.name

    @staticmethod
    def resolve_team_name(obj: Order) -> str | None:
        return obj.assigned_team.name if obj.assigned_team else None


class EventOut(Schema):
    at: dt.datetime
    action: str
    label: str
    from_state: str
    to_state: str
    note: str


class StaffEventOut(EventOut):
    actor_label: str
    team_id: int | None
    volunteer_id: int | None


class TrackOut(Schema):
    number: str
    title: str
    state: str
    state_label: str
    unit_name: str
    requested_at: dt.datetime
    reject_reason: str
    team_name: str | None
    completion_note: str
    rating: int | None
    rating_comment: str
    events: list[EventOut]

    @staticmethod
    def resolve_state_label(obj: Order) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_unit_name(obj: Order) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_team_name(obj: Order) -> str | None:
        return obj.assigned_team.name if obj.assigned_team else None

    @staticmethod
    def resolve_events(obj: Order) -> list[OrderEvent]:
        return list(selectors.public_timeline(obj))


class OrderIn(Schema):
    name: str
    phone: str
    region_code: str
    menu_item_code: str = ""
    kind: str = "menu"
    address: str = ""
    preferred_time: str = ""
    details: str = ""
    title: str = ""
    lat: Decimal | None = None
    lon: Decimal | None = None


class StaffOrderIn(OrderIn):
    channel: str = "phone"


class OrderCreatedOut(Schema):
    id: int
    number: str
    state: str
    link_token: str
    private_url: str


class OrderOut(Schema):
    id: int
    number: str
    kind: str
    title: str
    work_item: str
    menu_item_id: int | None
    channel: str
    state: str
    region_code: str
    region_name: str
    unit_id: int
    unit_name: str
    requester_name_masked: str
    requester_phone_masked: str
    assigned_team_id: int | None
    assigned_volunteer_id: int | None
    requested_at: dt.datetime
    respond_by: dt.datetime
    complete_by: dt.datetime | None
    escalation_level: int
    reminder_count: int
    rating: int | None
    low_rating: bool
    updated_at: dt.datetime

    @staticmethod
    def resolve_region_code(obj: Order) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Order) -> str:
        return obj.region.name

    @staticmethod
    def resolve_unit_name(obj: Order) -> str:
        return obj.unit.name


class OrderDetailOut(OrderOut):
    address: str
    lat: Decimal | None
    lon: Decimal | None
    preferred_time: str
    details: str
    reject_reason: str
    completion_note: str
    rating_comment: str
    taken_at: dt.datetime | None
    completed_at: dt.datetime | None
    actions: list[str]
    timeline: list[StaffEventOut]


class FactorOut(Schema):
    key: str
    label: str
    points: float
    detail: str


class CandidateOut(Schema):
    kind: str
    id: int
    name: str
    region_name: str
    score: float
    factors: list[FactorOut]


class ParticipantIn(Schema):
    volunteer_id: int
    minutes: int


class ActionIn(Schema):
    reason: str = ""
    note: str = ""
    team_id: int | None = None
    volunteer_id: int | None = None
    due_at: dt.datetime | None = None
    participants: list[ParticipantIn] = []


class RateIn(Schema):
    stars: int
    comment: str = ""


class WithdrawIn(Schema):
    reason: str = ""


class TasksOut(Schema):
    dispatched: list[OrderOut]
    taken: list[OrderOut]
    open: list[OrderOut]


class DemandFiguresOut(Schema):
    unit_id: int
    unit_name: str
    total: int
    by_state: dict[str, int]
    median_accept_hours: float | None
    median_complete_hours: float | None
    on_time_share: float | None
    average_rating: float | None
    low_ratings: int


def _input(payload: OrderIn) -> services.OrderInput:
    data = payload.dict()
    data.pop("channel", None)
    return services.OrderInput(**data)


def _created(order: Order) -> OrderCreatedOut:
    return OrderCreatedOut(
        id=order.pk,
        number=order.number,
        state=order.state,
        link_token=order.link_token,
        private_url=services.private_link(order, order.link_token),
    )


def _detail(request: HttpRequest, order_id: int) -> Order:
    order = selectors.staff_order(actor=request.user, order_id=order_id)
    order.actions = [t.action for t in services.allowed_actions(request.user, order)]  # type: ignore[attr-defined]
    order.timeline = list(selectors.staff_timeline(order))  # type: ignore[attr-defined]
    return order


# ---------------------------------------------------------------- public


@router.get("/menu", response=list[MenuItemOut], auth=None)
def list_menu(request: HttpRequest, village: str) -> object:
    """The menu a resident of `village` (a 12-digit code) sees: the village's, its
    town's and its county's active items."""
    sections = selectors.menu_for_village(village)
    ids = [item.pk for _region, items in sections for item in items]
    return list(
        MenuItem.objects.filter(pk__in=ids)
        .select_related("unit")
        .prefetch_related("teams")
        .order_by("region_id", "work_item", "title", "id")
    )


@router.get("/board", response=list[BoardOut], auth=None)
@paginate(Paging)
def list_board(request: HttpRequest, town: str = "") -> object:
    """Completed orders, without personal data."""
    return selectors.public_board(town=town)


@router.post("/orders/public", response={201: OrderCreatedOut, 400: ErrorOut}, auth=None)
def create_public_order(request: HttpRequest, payload: OrderIn) -> object:
    """Order without an account (rate-limited per phone and IP). The answer holds the
    private link's token: it is shown once and never stored."""
    order = services.order_submit(data=_input(payload), ip=client_ip(request) or "")
    return Status(201, _created(order))


@router.get("/track/{number}/{token}", response={200: TrackOut, 404: ErrorOut}, auth=None)
def get_tracked(request: HttpRequest, number: str, token: str) -> object:
    return services.order_by_link(number, token)


@router.post(
    "/track/{number}/{token}/rate",
    response={200: TrackOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
)
def rate_tracked(request: HttpRequest, number: str, token: str, payload: RateIn) -> object:
    order = services.order_by_link(number, token)
    services.order_rate(order=order, token=token, stars=payload.stars, comment=payload.comment)
    return services.order_by_link(number, token)


@router.post(
    "/track/{number}/{token}/remind",
    response={200: TrackOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
)
def remind_tracked(request: HttpRequest, number: str, token: str) -> object:
    order = services.order_by_link(number, token)
    services.order_remind(order=order, token=token)
    return services.order_by_link(number, token)


@router.post(
    "/track/{number}/{token}/withdraw",
    response={200: TrackOut, 400: ErrorOut, 404: ErrorOut},
    auth=None,
)
def withdraw_tracked(request: HttpRequest, number: str, token: str, payload: WithdrawIn) -> object:
    order = services.order_by_link(number, token)
    services.order_withdraw(order=order, token=token, reason=payload.reason)
    return services.order_by_link(number, token)


# ---------------------------------------------------------------- staff and assignees


@router.get("/orders", response=list[OrderOut])
@paginate(Paging)
def list_orders(request: HttpRequest, state: str = "", q: str = "", low: bool = False) -> object:
    """Orders in the caller's DEMAND_VIEW scope, newest first."""
    return selectors.staff_order_list(actor=request.user, state=state, search=q, low=low)


@router.post(
    "/orders", response={201: OrderCreatedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def create_staff_order(request: HttpRequest, payload: StaffOrderIn) -> object:
    """Staff order for a resident who phones in (not rate-limited)."""
    order = services.order_create(actor=request.user, data=_input(payload), channel=payload.channel)
    return Status(201, _created(order))


@router.get("/orders/{order_id}", response={200: OrderDetailOut, 404: ErrorOut})
def get_order(request: HttpRequest, order_id: int) -> object:
    return _detail(request, order_id)


@router.get(
    "/orders/{order_id}/candidates",
    response={200: list[CandidateOut], 403: ErrorOut, 404: ErrorOut},
)
def list_candidates(request: HttpRequest, order_id: int) -> object:
    """Ranked dispatch candidates with each factor's points and reason."""
    order = selectors.staff_order(actor=request.user, order_id=order_id)
    permissions.require_manager(request.user, order)
    return [
        CandidateOut(
            kind=c.kind,
            id=c.id,
            name=c.name,
            region_name=c.region_name,
            score=c.score,
            factors=[FactorOut(**f.__dict__) for f in c.factors],
        )
        for c in ranking.rank_candidates(order)
    ]


@router.post(
    "/orders/{order_id}/actions/{action}",
    response={200: OrderDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def act_on_order(request: HttpRequest, order_id: int, action: str, payload: ActionIn) -> object:
    """One step of the state machine: accept, reject, dispatch, open_grab, recall,
    take, grab, decline, complete or cancel."""
    actor = request.user
    order = selectors.staff_order(actor=actor, order_id=order_id)
    services.order_act(
        actor=actor,
        order=order,
        action=action,
        data=services.OrderActionInput(
            reason=payload.reason,
            note=payload.note,
            team_id=payload.team_id,
            volunteer_id=payload.volunteer_id,
            due_at=payload.due_at,
            participants=[
                services.Participant(p.volunteer_id, p.minutes) for p in payload.participants
            ],
        ),
    )
    return _detail(request, order_id)


@router.get("/tasks", response=TasksOut)
def my_tasks(request: HttpRequest) -> object:
    """For a team leader or volunteer: dispatched to them, being served, open to grab."""
    return selectors.my_tasks(actor=request.user)


@router.get("/figures", response={200: list[DemandFiguresOut], 403: ErrorOut})
def demand_figures(request: HttpRequest) -> object:
    return [
        DemandFiguresOut(
            unit_id=f.unit.pk,
            unit_name=f.unit.name,
            total=f.total,
            by_state=f.by_state,
            median_accept_hours=f.median_accept_hours,
            median_complete_hours=f.median_complete_hours,
            on_time_share=f.on_time_share,
            average_rating=f.average_rating,
            low_ratings=f.low_ratings,
        )
        for f in selectors.unit_figures(actor=request.user)
    ]


@router.get("/menu/manage", response=list[MenuItemOut])
@paginate(Paging)
def list_menu_manage(request: HttpRequest) -> object:
    return selectors.staff_menu_list(actor=request.user).prefetch_related("teams")


@router.post("/menu", response={201: MenuItemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def create_menu_item(request: HttpRequest, payload: MenuItemIn) -> object:
    item = services.menu_item_save(
        actor=request.user, data=input_of(payload, services.MenuItemInput)
    )
    return Status(201, item)


@router.put(
    "/menu/{item_id}", response={200: MenuItemOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def update_menu_item(request: HttpRequest, item_id: int, payload: MenuItemIn) -> object:
    item = selectors.menu_item_for(actor=request.user, item_id=item_id)
    return services.menu_item_save(
        actor=request.user, data=input_of(payload, services.MenuItemInput), item=item
    )
