"""Placing an order: by a resident (web, Open311) or on their behalf (staff, 十必联), with the
private link and photos."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor, user_id_of, user_or_none
from wenming.activities.models import WorkItem
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound, RuleViolation, RuleViolations
from wenming.core.photos import PHOTO_MAX_BYTES, encode_photo
from wenming.core.roles import Perm
from wenming.demands import notify, ratelimit
from wenming.demands.models import (
    Channel,
    MenuItem,
    Order,
    OrderPhoto,
    PhotoKind,
    RequestKind,
)
from wenming.demands.services.machine import (
    FREE_COMPLETE_HOURS,
    FREE_RESPONSE_HOURS,
    RESIDENT_LABEL,
    SYSTEM_LABEL,
    S,
    _event,
)
from wenming.network.models import Region, Unit, UnitKind

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


def _store_photo(*, order: Order, kind: str, data: bytes, actor: Actor | None) -> OrderPhoto:
    try:
        encoded = encode_photo(data)
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
        uploaded_by=user_or_none(actor),
    )


def private_link(order: Order, token: str) -> str:
    return reverse("demands:track", args=[order.number, token])


def _create(
    *,
    actor: Actor | None,
    data: OrderInput,
    channel: str,
    now: dt.datetime | None = None,
    values: dict[str, Any] | None = None,
) -> Order:
    values = values if values is not None else _clean_order(data)
    photo_data = _photo_bytes(data.photo) if data.photo else None
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    user = user_or_none(actor)
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
    actor: Actor | None = None,
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
    actor: Actor,
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


def order_of_requester(actor: Actor, number: str) -> Order:
    """A logged-in resident's own order (the account that placed it), by number; any
    other order is not found, like a wrong private link."""
    user_id = user_id_of(actor)
    order = (
        Order.objects.select_related("unit", "menu_item", "region", "assigned_team")
        .filter(number=(number or "").strip().upper(), requester_id=user_id)
        .first()
    )
    if order is None or not user_id:
        raise NotFound(_("找不到该订单。"))
    return order


def _resident_order(order: Order, token: str, actor: Actor | None) -> Order:
    """The order as its resident may act on it: through the private link's token, or
    as the logged-in account that placed it."""
    if not token and actor is not None:
        return order_of_requester(actor, order.number)
    return order_by_link(order.number, token)
