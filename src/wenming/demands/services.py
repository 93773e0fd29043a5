"""Writes about resident demand: the service menu, ordering, and the order's state
machine (review, dispatch or open for grabbing, accept or decline, complete, rate,
cancel), reminders and escalation.

Every transition is one service call that locks the order row (or, for grabbing, a
conditional UPDATE … WHERE state = 'open'), checks the move against TRANSITIONS,
writes the change, one OrderEvent on the timeline and one audit event, all in one
transaction. A refused move changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts.phones import normalize_phone
from wenming.activities.models import Subcategory, WorkItem
from wenming.activities.services import PHOTO_MAX_BYTES, _photo_encoded
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation, RuleViolations
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
from wenming.demands import notify, ratelimit
from wenming.demands.models import EVENT_LABELS as MODEL_EVENT_LABELS
from wenming.demands.models import (
    LIVE_STATES,
    MAX_COMPLETION_PHOTOS,
    WAITING_STATES,
    Channel,
    DeliveryMode,
    MenuItem,
    Order,
    OrderEvent,
    OrderPhoto,
    OrderState,
    PhotoKind,
    RequestKind,
)
from wenming.demands.permissions import (
    can_manage,
    eligible_teams,
    grabbable_order_ids,
    is_assignee,
    require_assignee,
    require_manager,
    require_view,
)
from wenming.network.models import Region, Unit, UnitKind
from wenming.records.hours import daily_capped
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import (
    Membership,
    MembershipStatus,
    Skill,
    Team,
    Volunteer,
    VolunteerStatus,
)

S = OrderState

# Time limits of a free request (微心愿 / 我要求助), which has no menu item to say.
FREE_RESPONSE_HOURS = 24
FREE_COMPLETE_HOURS = 72
# A resident may remind (催单) at most this often, and this many times per order.
REMINDER_INTERVAL = dt.timedelta(hours=4)
REMINDER_MAX = 3
# A rating at or below this is flagged to the unit.
LOW_RATING = 2
# Most minutes one volunteer's part in one order can count.
MAX_MINUTES_PER_ORDER = 12 * 60

# ---------------------------------------------------------------- the state machine


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    label: str | Promise
    # "manager": staff over the order's unit; "assignee": the team leader or volunteer
    # the order went to (or a manager on their behalf); "grabber": the leader of an
    # eligible team; "requester": the resident through the private link.
    by: str = "manager"
    reason_required: bool = False


_OPEN_FOR_CANCEL = frozenset(LIVE_STATES)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, gettext_lazy("受理")),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.REJECTED,
            gettext_lazy("不予受理"),
            reason_required=True,
        ),
        Transition("dispatch", frozenset({S.ACCEPTED}), S.DISPATCHED, gettext_lazy("派单")),
        Transition("open_grab", frozenset({S.ACCEPTED}), S.OPEN, gettext_lazy("发布抢单")),
        Transition(
            "recall",
            frozenset({S.DISPATCHED, S.OPEN}),
            S.ACCEPTED,
            gettext_lazy("收回重派"),
            reason_required=True,
        ),
        Transition("take", frozenset({S.DISPATCHED}), S.TAKEN, gettext_lazy("接单"), by="assignee"),
        Transition("grab", frozenset({S.OPEN}), S.TAKEN, gettext_lazy("抢单"), by="grabber"),
        Transition(
            "decline",
            frozenset({S.DISPATCHED}),
            S.ACCEPTED,
            gettext_lazy("拒单"),
            by="assignee",
            reason_required=True,
        ),
        Transition(
            "complete", frozenset({S.TAKEN}), S.COMPLETED, gettext_lazy("办结"), by="assignee"
        ),
        Transition("rate", frozenset({S.COMPLETED}), S.RATED, gettext_lazy("评价"), by="requester"),
        Transition(
            "cancel", _OPEN_FOR_CANCEL, S.CANCELLED, gettext_lazy("取消"), reason_required=True
        ),
        Transition("withdraw", _OPEN_FOR_CANCEL, S.CANCELLED, gettext_lazy("撤单"), by="requester"),
    ]
}

SYSTEM_LABEL = gettext_lazy("系统")
RESIDENT_LABEL = gettext_lazy("群众")

EVENT_LABELS = MODEL_EVENT_LABELS


def _refuse(order: Order, transition: Transition) -> RuleViolation:
    return RuleViolation(
        _("订单当前为“%(state)s”，不能%(action)s。")
        % {"state": order.get_state_display(), "action": transition.label},
        code="bad_state",
    )


def allowed_actions(actor: Any, order: Order) -> list[Transition]:
    """The transitions the actor may take now (for buttons; the services decide)."""
    result = []
    manager = can_manage(actor, order)
    assignee = is_assignee(actor, order)
    for t in TRANSITIONS.values():
        if order.state not in t.sources or t.by == "requester":
            continue
        allowed = {
            "manager": manager,
            "assignee": assignee or manager,
            "grabber": t.by == "grabber" and order.pk in grabbable_order_ids(actor, [order.pk]),
        }
        if allowed[t.by]:
            result.append(t)
    return result


# ---------------------------------------------------------------- shared steps


def _locked(order: Order) -> Order:
    locked = (
        Order.objects.select_for_update(of=("self",))
        .select_related("unit", "menu_item")
        .filter(pk=order.pk)
        .first()
    )
    if locked is None:
        raise NotFound(_("找不到该订单。"))
    return locked


def _label_of(actor: Any, fallback: str | Promise) -> str:
    if getattr(actor, "is_authenticated", False):
        return str(actor.name)[:80]
    return str(fallback)


def _event(
    *,
    order: Order,
    action: str,
    actor: Any,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    public: bool = True,
    at: dt.datetime | None = None,
    who: str | Promise = SYSTEM_LABEL,
) -> OrderEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return OrderEvent.objects.create(
        order=order,
        at=at or timezone.now(),
        actor=user,
        actor_label=_label_of(actor, who),
        action=action,
        from_state=from_state,
        to_state=to_state,
        unit_id=order.unit_id,
        team=team,
        volunteer=volunteer,
        note=note[:300],
        public=public,
    )


def _move(
    *,
    actor: Any,
    order: Order,
    action: str,
    reason: str = "",
    now: dt.datetime | None = None,
    changes: dict[str, Any] | None = None,
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    who: str | Promise = SYSTEM_LABEL,
    note: str = "",
    public: bool = True,
) -> Order:
    """Move a locked order along `action`: state, the fields in `changes`, one event on
    the timeline and one audit event."""
    transition = TRANSITIONS[action]
    now = now or timezone.now()
    before = order.state
    order.state = transition.target
    for name, value in (changes or {}).items():
        setattr(order, name, value)
    order.save()
    _event(
        order=order,
        action=action,
        actor=actor,
        from_state=before,
        to_state=order.state,
        note=note or reason,
        team=team,
        volunteer=volunteer,
        at=now,
        who=who,
        public=public,
    )
    audit_record(
        actor=actor,
        verb=f"order.{action}",
        target=order,
        region_code=order.region_id,
        changes={"state": [before, order.state]},
        note=reason,
    )
    return order


def _reason(transition: Transition, reason: str) -> str:
    reason = (reason or "").strip()[:300]
    if transition.reason_required and not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    return reason


def _check(order: Order, action: str) -> Transition:
    transition = TRANSITIONS[action]
    if order.state not in transition.sources:
        raise _refuse(order, transition)
    return transition


# ---------------------------------------------------------------- the service menu


@dataclass
class MenuItemInput:
    unit_id: int
    title: str
    work_item: str
    description: str = ""
    subcategory_id: int | None = None
    delivery_mode: str = DeliveryMode.VENUE
    response_hours: int = 24
    complete_hours: int = 72
    team_ids: list[int] = field(default_factory=list)
    skill_ids: list[int] = field(default_factory=list)
    is_active: bool = True


def _menu_code() -> str:
    # Stable and short: "S" and 7 random characters (Open311 service_code).
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "S" + "".join(secrets.choice(alphabet) for _i in range(7))


def _clean_menu(data: MenuItemInput) -> tuple[Unit, dict[str, Any]]:
    unit = Unit.objects.filter(pk=data.unit_id, is_active=True).first()
    if unit is None:
        raise RuleViolation(_("请选择提供服务的单位。"), field="unit_id")
    title = (data.title or "").strip()
    if not title or len(title) > 60:
        raise RuleViolation(_("请填写服务名称（最多 60 个字）。"), field="title")
    if data.work_item not in WorkItem.values:
        raise RuleViolation(_("请选择五项工作之一。"), field="work_item")
    if data.delivery_mode not in DeliveryMode.values:
        raise RuleViolation(_("请选择服务方式。"), field="delivery_mode")
    subcategory = None
    if data.subcategory_id:
        subcategory = Subcategory.objects.filter(
            pk=data.subcategory_id, work_item=data.work_item
        ).first()
        if subcategory is None:
            raise RuleViolation(_("子类不属于所选的五项工作。"), field="subcategory_id")
    for name in ("response_hours", "complete_hours"):
        hours = getattr(data, name)
        if not isinstance(hours, int) or not 1 <= hours <= 24 * 90:
            raise RuleViolation(_("时限须在 1 小时到 90 天之间。"), field=name)
    county = rc.county_prefix(unit.region_id)
    teams = list(Team.objects.filter(pk__in=data.team_ids, is_active=True))
    if len(teams) != len(set(data.team_ids)):
        raise RuleViolation(_("所选服务队不存在或已停用。"), field="team_ids")
    if any(not t.region_id.startswith(county) for t in teams):
        raise RuleViolation(_("服务队须在本县（区）内。"), field="team_ids")
    skills = list(Skill.objects.filter(pk__in=data.skill_ids))
    values = {
        "title": title,
        "work_item": data.work_item,
        "subcategory": subcategory,
        "description": clean_text(
            data.description, field="description", label=_("服务说明"), max_length=DESCRIPTION_MAX
        ),
        "delivery_mode": data.delivery_mode,
        "response_hours": data.response_hours,
        "complete_hours": data.complete_hours,
        "is_active": bool(data.is_active),
        "_teams": teams,
        "_skills": skills,
    }
    return unit, values


@transaction.atomic
def menu_item_save(*, actor: Any, data: MenuItemInput, item: MenuItem | None = None) -> MenuItem:
    """Create or edit a menu item: staff with DEMAND_MANAGE over the unit. Titles are
    unique per unit; the service code never changes."""
    unit, values = _clean_menu(data)
    require(actor, Perm.DEMAND_MANAGE, unit.region_id, view_perm=Perm.DEMAND_VIEW)
    if item is not None:
        require(actor, Perm.DEMAND_MANAGE, item.region_id, view_perm=Perm.DEMAND_VIEW)
    teams, skills = values.pop("_teams"), values.pop("_skills")
    clash = MenuItem.objects.filter(unit=unit, title=values["title"])
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise RuleViolation(_("本单位已有同名的服务项目。"), field="title")
    if item is None:
        item = MenuItem(unit=unit, region_id=unit.region_id, code=_menu_code(), **values)
        verb = "menu.create"
    else:
        item = MenuItem.objects.select_for_update().get(pk=item.pk)
        item.unit, item.region_id = unit, unit.region_id
        for name, value in values.items():
            setattr(item, name, value)
        verb = "menu.update"
    item.save()
    item.teams.set(teams)
    item.skills.set(skills)
    audit_record(
        actor=actor,
        verb=verb,
        target=item,
        region_code=item.region_id,
        changes={"title": [None, item.title], "teams": [None, [t.pk for t in teams]]},
    )
    return item


# ---------------------------------------------------------------- ordering


@dataclass
class OrderInput:
    name: str
    phone: str
    region_code: str
    menu_item_code: str = ""
    kind: str = RequestKind.MENU
    address: str = ""
    preferred_time: str = ""
    details: str = ""
    title: str = ""
    work_item: str = ""
    lat: Decimal | None = None
    lon: Decimal | None = None
    photo: Any = None  # an uploaded file


def _order_number() -> str:
    """The public order number: 10 random characters (50 bits) from an alphabet
    without look-alikes, grouped for reading aloud on the phone: 7K3M9-QX2PA."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _i in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def landing_unit(region_code: str) -> Unit:
    """Where a free request lands: the village's station, else the town's institute,
    else the county's center."""
    codes = [region_code, *reversed(rc.ancestors_of(region_code))]
    units = {
        u.region_id: u
        for u in Unit.objects.filter(region_id__in=codes, is_active=True).exclude(
            kind=UnitKind.POINT
        )
    }
    for code in codes:
        if code in units:
            return units[code]
    raise RuleViolation(_("您所在的村（社区）尚未开通点单服务。"), field="region_code")


def _clean_order(data: OrderInput) -> dict[str, Any]:
    """The order's input checked field by field; every problem is reported at once
    (RuleViolations), not one per submit."""
    errors: list[RuleViolation] = []

    def fail(message: Any, field: str) -> None:
        errors.append(RuleViolation(message, field=field))

    name = (data.name or "").strip()
    if not name:
        fail(_("请填写您的姓名。"), "name")
    elif len(name) > 20:
        fail(_("姓名最多 20 个字。"), "name")
    phone = ""
    try:
        phone = normalize_phone(data.phone)
    except RuleViolation as exc:
        fail(exc.message, "phone")
    region = Region.objects.filter(code=(data.region_code or "").strip()).first()
    if region is None or region.level != rc.Level.VILLAGE:
        region = None
        fail(_("请选择您所在的村（社区）。"), "region_code")
    address = (data.address or "").strip()
    if len(address) > 200:
        fail(_("地址最多 200 个字。"), "address")
    preferred = (data.preferred_time or "").strip()
    if len(preferred) > 100:
        fail(_("希望服务时间最多 100 个字。"), "preferred_time")
    details = (data.details or "").strip()
    if len(details) > 1000:
        fail(_("需求描述最多 1000 个字。"), "details")
    menu_item = None
    unit: Unit | None = None
    title, work_item = "", ""
    respond_hours = complete_hours = 0
    if data.kind == RequestKind.MENU:
        menu_item = (
            MenuItem.objects.select_related("unit")
            .filter(code=(data.menu_item_code or "").strip(), is_active=True)
            .first()
        )
        if menu_item is None:
            fail(_("请选择要点的服务项目。"), "menu_item_code")
        else:
            if region is not None and not region.code.startswith(rc.prefix_of(menu_item.region_id)):
                fail(
                    _("该服务项目不面向您所在的村（社区），请在本村、本镇或本县的菜单中选择。"),
                    "menu_item_code",
                )
            unit = menu_item.unit
            title = menu_item.title
            work_item = menu_item.work_item
            respond_hours, complete_hours = menu_item.response_hours, menu_item.complete_hours
    elif data.kind in (RequestKind.WISH, RequestKind.HELP):
        if not details:
            fail(_("请写一写您需要什么帮助。"), "details")
        unit = landing_unit(region.code) if region is not None else None
        title = (data.title or "").strip()[:60] or str(RequestKind(data.kind).label)
        work_item = data.work_item if data.work_item in WorkItem.values else ""
        respond_hours, complete_hours = FREE_RESPONSE_HOURS, FREE_COMPLETE_HOURS
    else:
        fail(_("请选择点单类型。"), "kind")
    lat, lon = data.lat, data.lon
    if (lat is None) != (lon is None) or (
        lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)
    ):
        fail(_("位置坐标不正确。"), "lat")
    if errors:
        raise errors[0] if len(errors) == 1 else RuleViolations(errors)
    return {
        "name": name,
        "phone": phone,
        "region": region,
        "address": address,
        "preferred_time": preferred,
        "details": details,
        "menu_item": menu_item,
        "unit": unit,
        "title": title,
        "work_item": work_item,
        "respond_hours": respond_hours,
        "complete_hours": complete_hours,
        "lat": lat,
        "lon": lon,
    }


def _photo_bytes(upload: Any) -> bytes:
    size = getattr(upload, "size", None)
    if size is None or size > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="photo", code="too_big")
    data: bytes = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="photo", code="too_big")
    return data


def _store_photo(*, order: Order, kind: str, data: bytes, actor: Any) -> OrderPhoto:
    try:
        encoded = _photo_encoded(data)
    except RuleViolation as exc:
        raise RuleViolation(exc.message, field="photo", code=exc.code) from exc
    stem = f"order-photos/{order.pk}/{secrets.token_urlsafe(16)}"
    image = default_storage.save(f"{stem}.jpg", ContentFile(encoded.image))
    thumb = default_storage.save(f"{stem}-thumb.jpg", ContentFile(encoded.thumbnail))
    return OrderPhoto.objects.create(
        order=order,
        kind=kind,
        image=image,
        thumbnail=thumb,
        width=encoded.width,
        height=encoded.height,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def private_link(order: Order, token: str) -> str:
    return reverse("demands:track", args=[order.number, token])


def _create(
    *,
    actor: Any,
    data: OrderInput,
    channel: str,
    now: dt.datetime | None = None,
    values: dict[str, Any] | None = None,
) -> Order:
    values = values if values is not None else _clean_order(data)
    photo_data = _photo_bytes(data.photo) if data.photo else None
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    user = actor if getattr(actor, "is_authenticated", False) else None
    order = Order.objects.create(
        number=_order_number(),
        token_digest=token_digest(token),
        kind=data.kind,
        menu_item=values["menu_item"],
        title=values["title"],
        work_item=values["work_item"],
        requester_name_cipher=crypto.encrypt(values["name"]),
        requester_name_masked=crypto.mask_name(values["name"]),
        requester_phone_cipher=crypto.encrypt(values["phone"]),
        requester_phone_digest=crypto.digest(values["phone"]),
        requester_phone_masked=crypto.mask_phone(values["phone"]),
        requester=user if channel == Channel.WEB else None,
        channel=channel,
        created_by=user if channel != Channel.WEB else None,
        region=values["region"],
        address=values["address"],
        lat=values["lat"],
        lon=values["lon"],
        preferred_time=values["preferred_time"],
        details=values["details"],
        unit=values["unit"],
        state=S.SUBMITTED,
        respond_by=now + dt.timedelta(hours=values["respond_hours"]),
        requested_at=now,
    )
    order.link_token = token
    if photo_data is not None:
        _store_photo(order=order, kind=PhotoKind.REQUEST, data=photo_data, actor=actor)
    who = RESIDENT_LABEL if channel == Channel.WEB else SYSTEM_LABEL
    _event(
        order=order,
        action="submit",
        actor=actor,
        to_state=S.SUBMITTED,
        note=str(Channel(channel).label),
        at=now,
        who=who,
    )
    audit_record(
        actor=actor,
        verb="order.submit",
        target=order,
        region_code=order.region_id,
        changes={"state": [None, S.SUBMITTED], "unit": [None, order.unit_id]},
        note=str(Channel(channel).label),
    )
    notify.send(
        recipients=notify.unit_staff(order.unit),
        verb="order.submit",
        title=_("新的群众点单：%(t)s（%(n)s）") % {"t": order.title, "n": order.number},
        url=notify.manage_url(order.pk),
        region_code=order.region_id,
    )
    link = notify.absolute(private_link(order, token))
    notify.send_phone(
        phone=values["phone"],
        text=_("您的点单已提交，订单号 %(n)s。查看进度和评价：%(l)s")
        % {"n": order.number, "l": link},
        verb="order.submit",
        region_code=order.region_id,
    )
    return order


@transaction.atomic
def order_submit(
    *,
    data: OrderInput,
    ip: str,
    actor: Any = None,
    channel: str = Channel.WEB,
    now: dt.datetime | None = None,
) -> Order:
    """A resident orders, with or without an account (web), or an outside system posts
    an order on a resident's behalf (`Channel.API`: the Open311 client is authorised and
    rate-limited by `wenming.open311.services`, and gives no IP). Rate-limited per phone
    number and per IP address (see `ratelimit`). The returned order carries
    `link_token`, the secret of the private link, shown once and never stored."""
    # Every input problem reported at once, before any limit counts.
    values = _clean_order(data)
    ratelimit.order_hit(phone_digest=crypto.digest(values["phone"]), ip=ip)
    return _create(actor=actor, data=data, channel=channel, now=now, values=values)


@transaction.atomic
def order_create(
    *,
    actor: Any,
    data: OrderInput,
    channel: str = Channel.PHONE,
    now: dt.datetime | None = None,
) -> Order:
    """Staff order on behalf of a resident (one who phones in, or met on a household
    visit): staff with DEMAND_MANAGE over the resident's village. Not rate-limited.
    Returns the order, carrying `link_token` for the resident's private link (also sent
    to the resident by SMS)."""
    if channel == Channel.WEB:
        raise RuleViolation(_("代点单请选择来源。"), field="channel")
    code = (data.region_code or "").strip()
    if not rc.is_valid(code):
        raise RuleViolation(_("请选择群众所在的村（社区）。"), field="region_code")
    require(actor, Perm.DEMAND_MANAGE, code, view_perm=Perm.DEMAND_VIEW)
    return _create(actor=actor, data=data, channel=channel, now=now)


def order_by_link(number: str, token: str) -> Order:
    """The order of a private link. The token is compared with the stored digest in
    constant time; a wrong number, a wrong token or another order's token all give the
    same NotFound."""
    order = (
        Order.objects.select_related("unit", "menu_item", "region", "assigned_team")
        .filter(number=(number or "").strip().upper())
        .first()
    )
    expected = order.token_digest if order is not None else "0" * 64
    if not hmac.compare_digest(token_digest(token or ""), expected) or order is None:
        raise NotFound(_("链接无效：请核对订单号和链接。"))
    return order


def order_of_requester(actor: Any, number: str) -> Order:
    """A logged-in resident's own order (the account that placed it), by number; any
    other order is not found, like a wrong private link."""
    user_id = int(actor.pk) if getattr(actor, "is_authenticated", False) else 0
    order = (
        Order.objects.select_related("unit", "menu_item", "region", "assigned_team")
        .filter(number=(number or "").strip().upper(), requester_id=user_id)
        .first()
    )
    if order is None or not user_id:
        raise NotFound(_("找不到该订单。"))
    return order


def _resident_order(order: Order, token: str, actor: Any) -> Order:
    """The order as its resident may act on it: through the private link's token, or
    as the logged-in account that placed it."""
    if not token and actor is not None:
        return order_of_requester(actor, order.number)
    return order_by_link(order.number, token)


# ---------------------------------------------------------------- review and dispatch


@transaction.atomic
def order_accept(*, actor: Any, order: Order, note: str = "") -> Order:
    """The unit where the order landed takes it on (审单)."""
    locked = _locked(order)
    require_manager(actor, locked)
    _check(locked, "accept")
    now = timezone.now()
    return _move(
        actor=actor,
        order=locked,
        action="accept",
        now=now,
        changes={"accepted_at": now},
        note=(note or "").strip()[:300],
    )


@transaction.atomic
def order_reject(*, actor: Any, order: Order, reason: str) -> Order:
    """The unit declines the order with a reason; the reason is shown only to the
    requester (on the private page and by SMS)."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = _check(locked, "reject")
    reason = _reason(transition, reason)
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="reject",
        now=now,
        reason=reason,
        changes={"reject_reason": reason, "closed_at": now},
    )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 未被受理：%(r)s") % {"n": locked.number, "r": reason},
        "order.reject",
    )
    return locked


def _sms_requester(order: Order, text: str, verb: str) -> None:
    try:
        phone = crypto.decrypt(order.requester_phone_cipher)
    except crypto.DecryptionError:
        return
    notify.send_phone(phone=phone, text=text, verb=verb, region_code=order.region_id)


def _deadline(order: Order, due_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if due_at is None:
        hours = order.menu_item.complete_hours if order.menu_item else FREE_COMPLETE_HOURS
        return now + dt.timedelta(hours=hours)
    if due_at <= now:
        raise RuleViolation(_("完成期限须晚于现在。"), field="due_at")
    return due_at


@transaction.atomic
def order_dispatch(
    *,
    actor: Any,
    order: Order,
    team: Team | None = None,
    volunteer: Volunteer | None = None,
    due_at: dt.datetime | None = None,
    note: str = "",
) -> Order:
    """Dispatch an accepted order to one team or one volunteer with a deadline (派单).
    The team must be active; the volunteer registered (active)."""
    locked = _locked(order)
    require_manager(actor, locked)
    _check(locked, "dispatch")
    if (team is None) == (volunteer is None):
        raise RuleViolation(_("请选择一个服务队或一名志愿者。"), field="assignee")
    if team is not None and not Team.objects.filter(pk=team.pk, is_active=True).exists():
        raise RuleViolation(_("该服务队已停用。"), field="assignee")
    if (
        volunteer is not None
        and not Volunteer.objects.filter(pk=volunteer.pk, status=VolunteerStatus.ACTIVE).exists()
    ):
        raise RuleViolation(_("该志愿者不是已注册状态。"), field="assignee")
    now = timezone.now()
    deadline = _deadline(locked, due_at, now)
    _move(
        actor=actor,
        order=locked,
        action="dispatch",
        now=now,
        changes={
            "assigned_team": team,
            "assigned_volunteer": volunteer,
            "complete_by": deadline,
        },
        team=team,
        volunteer=volunteer,
        note=(note or "").strip()[:300] or str(team or volunteer),
    )
    if team is not None:
        recipients = notify.team_leaders(team.pk)
    else:
        assert volunteer is not None
        recipients = [volunteer.user] if volunteer.user is not None else []
    notify.send(
        recipients=recipients,
        verb="order.dispatch",
        title=_("新派单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        body=_("请在 %(d)s 前完成。")
        % {"d": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")},
        url=notify.tasks_url(),
        region_code=locked.region_id,
        sms=True,
    )
    return locked


@transaction.atomic
def order_open_for_grab(*, actor: Any, order: Order, due_at: dt.datetime | None = None) -> Order:
    """Open an accepted order to the eligible teams (抢单): the first to accept wins."""
    locked = _locked(order)
    require_manager(actor, locked)
    _check(locked, "open_grab")
    now = timezone.now()
    deadline = _deadline(locked, due_at, now)
    _move(actor=actor, order=locked, action="open_grab", now=now, changes={"complete_by": deadline})
    leaders = {u.pk: u for team in eligible_teams(locked) for u in notify.team_leaders(team.pk)}
    notify.send(
        recipients=leaders.values(),
        verb="order.open_grab",
        title=_("可抢单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        url=notify.tasks_url(),
        region_code=locked.region_id,
    )
    return locked


@transaction.atomic
def order_recall(*, actor: Any, order: Order, reason: str) -> Order:
    """Take a dispatched or open order back to be dispatched again."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = _check(locked, "recall")
    reason = _reason(transition, reason)
    return _move(
        actor=actor,
        order=locked,
        action="recall",
        reason=reason,
        changes={"assigned_team": None, "assigned_volunteer": None, "complete_by": None},
        public=False,  # an internal step: the resident's page does not show it
    )


# ---------------------------------------------------------------- accept, grab, decline


@transaction.atomic
def order_take(*, actor: Any, order: Order) -> Order:
    """The assignee (the team's leader, or the volunteer) accepts a dispatched order
    (接单); a manager may record it on their behalf."""
    locked = _locked(order)
    require_view(actor, locked)
    _check(locked, "take")
    require_assignee(actor, locked)
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="take",
        now=now,
        changes={"taken_at": now},
        team=locked.assigned_team,
        volunteer=locked.assigned_volunteer,
    )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已有志愿者接单，将尽快为您服务。") % {"n": locked.number},
        "order.take",
    )
    return locked


@transaction.atomic
def order_grab(*, actor: Any, order: Order, team: Team) -> Order:
    """A team leader grabs an open order for their team. The first wins: one
    conditional UPDATE … WHERE state = 'open' decides, so two grabs at once cannot both
    succeed; the loser is told it is gone and nothing of theirs is written."""
    if team.pk not in set(teams_led_by(actor)):
        raise Forbidden(_("只有服务队队长可以为本队抢单。"))
    current = Order.objects.select_related("unit").filter(pk=order.pk).first()
    if current is None:
        raise NotFound(_("找不到该订单。"))
    if current.state != S.OPEN:
        if current.state in (S.TAKEN, S.COMPLETED, S.RATED):
            raise RuleViolation(_("手慢了，该订单已被其他服务队接走。"), code="grabbed")
        raise _refuse(current, TRANSITIONS["grab"])
    if not eligible_teams(current).filter(pk=team.pk).exists():
        raise Forbidden(_("您的服务队不在该订单的可抢单范围内。"))
    now = timezone.now()
    won = Order.objects.filter(pk=order.pk, state=S.OPEN).update(
        state=S.TAKEN,
        assigned_team=team,
        assigned_volunteer=None,
        taken_at=now,
        updated_at=now,
    )
    if not won:
        raise RuleViolation(_("手慢了，该订单已被其他服务队接走。"), code="grabbed")
    locked = _locked(current)
    _event(
        order=locked,
        action="grab",
        actor=actor,
        from_state=S.OPEN,
        to_state=S.TAKEN,
        team=team,
        note=team.name,
        at=now,
    )
    audit_record(
        actor=actor,
        verb="order.grab",
        target=locked,
        region_code=locked.region_id,
        changes={"state": [S.OPEN, S.TAKEN], "assigned_team": [None, team.pk]},
    )
    notify.send(
        recipients=notify.unit_staff(locked.unit),
        verb="order.grab",
        title=_("%(team)s 抢到了订单 %(n)s") % {"team": team.name, "n": locked.number},
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


@transaction.atomic
def order_decline(*, actor: Any, order: Order, reason: str) -> Order:
    """The assignee declines a dispatched order with a reason; it goes back to the unit
    to be dispatched again."""
    locked = _locked(order)
    require_view(actor, locked)
    transition = _check(locked, "decline")
    require_assignee(actor, locked)
    reason = _reason(transition, reason)
    team, volunteer = locked.assigned_team, locked.assigned_volunteer
    _move(
        actor=actor,
        order=locked,
        action="decline",
        reason=reason,
        changes={"assigned_team": None, "assigned_volunteer": None, "complete_by": None},
        team=team,
        volunteer=volunteer,
        public=False,  # the team's reason is for the unit, not the resident
    )
    notify.send(
        recipients=notify.unit_staff(locked.unit),
        verb="order.decline",
        title=_("订单 %(n)s 被拒单，请重新派单") % {"n": locked.number},
        body=reason,
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


# ---------------------------------------------------------------- completion and rating


@dataclass
class Participant:
    volunteer_id: int
    minutes: int


def _participants(order: Order, participants: Sequence[Participant]) -> list[Participant]:
    if not participants:
        raise RuleViolation(_("请至少填写一名参与服务的志愿者。"), field="participants")
    seen: set[int] = set()
    for p in participants:
        if p.volunteer_id in seen:
            raise RuleViolation(_("同一名志愿者只能填写一次。"), field="participants")
        seen.add(p.volunteer_id)
        if not 1 <= p.minutes <= MAX_MINUTES_PER_ORDER:
            raise RuleViolation(
                _("每人服务时长须在 1 到 %(m)s 分钟之间。") % {"m": MAX_MINUTES_PER_ORDER},
                field="participants",
            )
    if order.assigned_team_id is not None:
        allowed = set(
            Membership.objects.filter(
                team_id=order.assigned_team_id,
                status=MembershipStatus.ACTIVE,
                volunteer__status=VolunteerStatus.ACTIVE,
                volunteer_id__in=seen,
            ).values_list("volunteer_id", flat=True)
        )
    else:
        allowed = {order.assigned_volunteer_id} & seen if order.assigned_volunteer_id else set()
    if allowed != seen:
        raise RuleViolation(
            _("参与服务的志愿者须是承接服务队的在队队员（或承接的志愿者本人）。"),
            field="participants",
        )
    return list(participants)


@transaction.atomic
def order_complete(
    *,
    actor: Any,
    order: Order,
    note: str,
    participants: Sequence[Participant],
    photos: Sequence[Any] = (),
) -> Order:
    """The assignee completes the order with notes, photos and the volunteers who took
    part. Each volunteer's minutes become a PENDING service record of the order's unit,
    to be confirmed by its staff like any activity's records (谁组织谁记录)."""
    locked = _locked(order)
    require_view(actor, locked)
    _check(locked, "complete")
    require_assignee(actor, locked)
    note = (note or "").strip()
    if not note:
        raise RuleViolation(_("请填写服务情况。"), field="note")
    if len(note) > 2000:
        raise RuleViolation(_("服务情况最多 2000 个字。"), field="note")
    people = _participants(locked, participants)
    if len(photos) > MAX_COMPLETION_PHOTOS:
        raise RuleViolation(
            _("最多上传 %(n)s 张照片。") % {"n": MAX_COMPLETION_PHOTOS}, field="photos"
        )
    blobs = [_photo_bytes(p) for p in photos]
    now = timezone.now()
    _move(
        actor=actor,
        order=locked,
        action="complete",
        now=now,
        changes={"completion_note": note, "completed_at": now},
        team=locked.assigned_team,
        volunteer=locked.assigned_volunteer,
        note=_("%(n)s 名志愿者参与") % {"n": len(people)},
    )
    for blob in blobs:
        _store_photo(order=locked, kind=PhotoKind.COMPLETION, data=blob, actor=actor)
    day = timezone.localtime(now).date()
    place = (locked.address or locked.region.name)[:200]
    for p in people:
        # The ledger's daily cap is per volunteer (as for activities).
        minutes, cut = daily_capped(volunteer_id=p.volunteer_id, day=day, minutes=p.minutes)
        record = ServiceRecord.objects.create(
            volunteer_id=p.volunteer_id,
            order=locked,
            unit_id=locked.unit_id,
            region_id=locked.unit.region_id,
            date=day,
            place=place,
            content=_("群众点单：%(t)s") % {"t": locked.title},
            served_people=1,
            minutes=minutes,
            minutes_capped=cut or None,
            status=RecordStatus.PENDING,
        )
        audit_record(
            actor=actor,
            verb="record.create",
            target=record,
            region_code=record.region_id,
            changes={"minutes": [None, minutes], "order": [None, locked.pk]}
            | ({"minutes_capped": [None, cut]} if cut else {}),
        )
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已完成服务，请通过下单时收到的链接为我们评价。") % {"n": locked.number},
        "order.complete",
    )
    return locked


@transaction.atomic
def order_rate(
    *, order: Order, token: str = "", actor: Any = None, stars: int, comment: str = ""
) -> Order:
    """The resident rates a completed order 1–5 with a comment, through the private
    link. A rating at or below LOW_RATING is flagged to the unit's staff."""
    order = _resident_order(order, token, actor)
    locked = _locked(order)
    _check(locked, "rate")
    if not isinstance(stars, int) or not 1 <= stars <= 5:
        raise RuleViolation(_("请选择 1 到 5 颗星。"), field="stars")
    comment = (comment or "").strip()
    if len(comment) > 300:
        raise RuleViolation(_("评价最多 300 个字。"), field="comment")
    now = timezone.now()
    low = stars <= LOW_RATING
    _move(
        actor=None,
        order=locked,
        action="rate",
        now=now,
        changes={
            "rating": stars,
            "rating_comment": comment,
            "rated_at": now,
            "low_rating": low,
            "closed_at": now,
        },
        who=RESIDENT_LABEL,
        note=_("%(s)s 星") % {"s": stars},
    )
    if low:
        notify.send(
            recipients=notify.unit_staff(locked.unit),
            verb="order.low_rating",
            title=_("差评提醒：订单 %(n)s 得到 %(s)s 星") % {"n": locked.number, "s": stars},
            body=comment,
            url=notify.manage_url(locked.pk),
            region_code=locked.region_id,
        )
    return locked


# ---------------------------------------------------------------- cancelling


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, reason: str) -> Order:
    """Staff close an unfinished order with a reason."""
    locked = _locked(order)
    require_manager(actor, locked)
    transition = _check(locked, "cancel")
    reason = _reason(transition, reason)
    now = timezone.now()
    _move(actor=actor, order=locked, action="cancel", reason=reason, changes={"closed_at": now})
    _sms_requester(
        locked,
        _("您的点单 %(n)s 已关闭：%(r)s") % {"n": locked.number, "r": reason},
        "order.cancel",
    )
    return locked


@dataclass
class OrderActionInput:
    """What a staff or assignee action on an order may carry (pages and API alike)."""

    reason: str = ""
    note: str = ""
    team_id: int | None = None
    volunteer_id: int | None = None
    due_at: dt.datetime | None = None
    participants: Sequence[Participant] = ()
    photos: Sequence[Any] = ()


ORDER_ACTIONS = (
    "accept", "reject", "dispatch", "open_grab", "recall", "take", "grab", "decline",
    "complete", "cancel",
)  # fmt: skip


def order_act(*, actor: Any, order: Order, action: str, data: OrderActionInput) -> Order:
    """The one entry point for every step of an order's state machine taken by staff or
    the assignee: the pages and the API both call it, so no path differs. Each step's
    own service checks who may take it; an unknown action is not found."""
    team = Team.objects.filter(pk=data.team_id).first() if data.team_id else None
    volunteer = (
        Volunteer.objects.filter(pk=data.volunteer_id).first() if data.volunteer_id else None
    )
    steps: dict[str, Any] = {
        "accept": lambda: order_accept(actor=actor, order=order, note=data.note),
        "reject": lambda: order_reject(actor=actor, order=order, reason=data.reason),
        "dispatch": lambda: order_dispatch(
            actor=actor,
            order=order,
            team=team,
            volunteer=volunteer,
            due_at=data.due_at,
            note=data.note,
        ),
        "open_grab": lambda: order_open_for_grab(actor=actor, order=order, due_at=data.due_at),
        "recall": lambda: order_recall(actor=actor, order=order, reason=data.reason),
        "take": lambda: order_take(actor=actor, order=order),
        "grab": lambda: order_grab(actor=actor, order=order, team=_team_for_grab(team)),
        "decline": lambda: order_decline(actor=actor, order=order, reason=data.reason),
        "complete": lambda: order_complete(
            actor=actor,
            order=order,
            note=data.note,
            participants=list(data.participants),
            photos=list(data.photos),
        ),
        "cancel": lambda: order_cancel(actor=actor, order=order, reason=data.reason),
    }
    step = steps.get(action)
    if step is None:
        raise NotFound(_("未知的操作。"))
    result: Order = step()
    return result


def _team_for_grab(team: Team | None) -> Team:
    if team is None:
        raise RuleViolation(_("请选择服务队。"), field="team_id")
    return team


@transaction.atomic
def order_withdraw(*, order: Order, token: str = "", actor: Any = None, reason: str = "") -> Order:
    """The resident withdraws their unfinished order through the private link."""
    order = _resident_order(order, token, actor)
    locked = _locked(order)
    _check(locked, "withdraw")
    now = timezone.now()
    _move(
        actor=None,
        order=locked,
        action="withdraw",
        reason=(reason or "").strip()[:300],
        changes={"closed_at": now},
        who=RESIDENT_LABEL,
    )
    if locked.assigned_team_id:
        notify.send(
            recipients=notify.team_leaders(locked.assigned_team_id),
            verb="order.withdraw",
            title=_("群众已撤销订单 %(n)s") % {"n": locked.number},
            url=notify.tasks_url(),
            region_code=locked.region_id,
        )
    return locked


# ---------------------------------------------------------------- reminders


@transaction.atomic
def order_remind(
    *, order: Order, token: str = "", actor: Any = None, now: dt.datetime | None = None
) -> Order:
    """The resident reminds (催单) an unfinished order: at most once per
    REMINDER_INTERVAL and REMINDER_MAX times per order, decided by one conditional
    UPDATE so that two presses at once count once. The unit's staff (and the
    assignee) are told."""
    order = _resident_order(order, token, actor)
    now = now or timezone.now()
    if order.state not in LIVE_STATES:
        raise RuleViolation(
            _("订单当前为“%(state)s”，不能催单。") % {"state": order.get_state_display()},
            code="bad_state",
        )
    if order.reminder_count >= REMINDER_MAX:
        raise RuleViolation(
            _("每个订单最多催单 %(n)s 次，工作人员会尽快处理。") % {"n": REMINDER_MAX},
            code="rate_limited",
        )
    updated = (
        Order.objects.filter(pk=order.pk, state__in=LIVE_STATES, reminder_count__lt=REMINDER_MAX)
        .filter(Q(last_reminded_at__isnull=True) | Q(last_reminded_at__lte=now - REMINDER_INTERVAL))
        .update(reminder_count=F("reminder_count") + 1, last_reminded_at=now, updated_at=now)
    )
    if not updated:
        hours = int(REMINDER_INTERVAL.total_seconds() // 3600)
        raise RuleViolation(
            _("您刚催过单，%(h)s 小时内只能催一次。") % {"h": hours}, code="rate_limited"
        )
    locked = _locked(order)
    _event(
        order=locked,
        action="remind",
        actor=None,
        note=_("第 %(n)s 次催单") % {"n": locked.reminder_count},
        at=now,
        who=RESIDENT_LABEL,
    )
    audit_record(
        actor=None,
        verb="order.remind",
        target=locked,
        region_code=locked.region_id,
        changes={"reminder_count": [locked.reminder_count - 1, locked.reminder_count]},
    )
    recipients = notify.unit_staff(locked.unit)
    if locked.assigned_team_id:
        recipients += notify.team_leaders(locked.assigned_team_id)
    notify.send(
        recipients=recipients,
        verb="order.remind",
        title=_("群众催单：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
    )
    return locked


# ---------------------------------------------------------------- escalation


def _overdue_q(now: dt.datetime) -> Q:
    return Q(state__in=WAITING_STATES, respond_by__lt=now) | Q(state=S.TAKEN, complete_by__lt=now)


@transaction.atomic
def order_escalate(*, order: Order, now: dt.datetime | None = None) -> bool:
    """Move an overdue order's unit one level up the tree (station → institute →
    center) and tell the staff there; the time limit starts again there. An order at
    the top stays, and is not escalated again. Returns whether it moved."""
    now = now or timezone.now()
    locked = _locked(order)
    if not Order.objects.filter(pk=locked.pk).filter(_overdue_q(now)).exists():
        return False
    parent = (
        Unit.objects.filter(pk=locked.unit.parent_id, is_active=True).first()
        if locked.unit.parent_id
        else None
    )
    if parent is None:
        return False
    waiting = locked.state in WAITING_STATES
    hours = (
        (locked.menu_item.response_hours if waiting else locked.menu_item.complete_hours)
        if locked.menu_item
        else (FREE_RESPONSE_HOURS if waiting else FREE_COMPLETE_HOURS)
    )
    before = locked.unit
    locked.unit = parent
    locked.escalation_level += 1
    if waiting:
        locked.respond_by = now + dt.timedelta(hours=hours)
    else:
        locked.complete_by = now + dt.timedelta(hours=hours)
    locked.save()
    why = _("超过响应时限未接单") if waiting else _("超过办结时限未完成")
    _event(
        order=locked,
        action="escalate",
        actor=None,
        from_state=locked.state,
        to_state=locked.state,
        note=_("%(why)s，由 %(a)s 上报至 %(b)s") % {"why": why, "a": before.name, "b": parent.name},
        at=now,
    )
    audit_record(
        actor=None,
        verb="order.escalate",
        target=locked,
        region_code=locked.region_id,
        changes={"unit": [before.pk, parent.pk]},
        note=why,
    )
    notify.send(
        recipients=notify.unit_staff(parent),
        verb="order.escalate",
        title=_("超时上报：%(t)s（%(n)s）") % {"t": locked.title, "n": locked.number},
        body=why,
        url=notify.manage_url(locked.pk),
        region_code=locked.region_id,
        sms=True,
    )
    return True


def orders_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """The periodic job: escalate every overdue order one level (each in its own
    transaction, re-checked under its row lock). Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    ids = list(
        Order.objects.filter(_overdue_q(now), unit__parent__isnull=False)
        .order_by("respond_by")
        .values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        order = Order.objects.select_related("unit").get(pk=pk)
        moved += order_escalate(order=order, now=now)
    return moved


# ---------------------------------------------------------------- personal data


@transaction.atomic
def order_contact_reveal(*, actor: Any, order: Order, reason: str = "") -> tuple[str, str]:
    """The requester's name and phone, for the staff of the order's unit and the
    assignee while the order is theirs. Every reveal is audited."""
    order = Order.objects.select_related("unit").get(pk=order.pk)
    require_view(actor, order)
    allowed = can_manage(actor, order) or (
        is_assignee(actor, order) and order.state in (S.DISPATCHED, S.TAKEN)
    )
    if not allowed:
        raise Forbidden(_("您没有查看联系方式的权限。"))
    name = crypto.decrypt(order.requester_name_cipher)
    phone = crypto.decrypt(order.requester_phone_cipher)
    audit_record(
        actor=actor,
        verb="order.reveal",
        target=order,
        region_code=order.region_id,
        note=(reason or "").strip()[:300] or _("联系群众"),
    )
    return name, phone


# ---------------------------------------------------------------- the order's service records


@transaction.atomic
def order_records_confirm(*, actor: Any, order: Order) -> int:
    """Confirm the pending service records of a completed order, by the records rules
    (the organising unit's staff confirm; see records.services.record_confirm)."""
    from wenming.records.services import record_confirm

    locked = _locked(order)
    require_view(actor, locked)
    count = 0
    for record in ServiceRecord.objects.filter(order=locked, status=RecordStatus.PENDING).order_by(
        "id"
    ):
        record_confirm(actor=actor, record=record)
        count += 1
    return count
