"""Open311 keys (made, checked, revoked) and service requests posted through Open311,
which become resident orders through the demands services."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor, user_of
from wenming.core import ratelimit
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.demands import services as demands
from wenming.demands.models import Channel, Order, RequestKind
from wenming.network.models import Region
from wenming.open311.models import ApiKey

AUDIT_VERBS = {
    "open311.key_create": pgettext_lazy("audit verb", "新建 Open311 密钥"),
    "open311.key_revoke": pgettext_lazy("audit verb", "停用 Open311 密钥"),
    "open311.request": pgettext_lazy("audit verb", "Open311 提交诉求"),
}

# Requests one key may post per hour (a hotline system posts for many residents).
PER_KEY_HOUR = 300


def key_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, actor: Actor, name: str, region_code: str) -> tuple[ApiKey, str]:
    """Make a key for an Open311 client that may post requests for villages under
    `region_code`: staff who grant roles there (county admins and above). Returns the
    key and its secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise RuleViolation(_("请填写接入方名称（最多 60 个字）。"), field="name")
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        raise RuleViolation(_("请选择可提交的区域。"), field="region_code")
    require(actor, Perm.GRANTS_MANAGE, region.code, view_perm=Perm.NETWORK_VIEW)
    raw = "o311_" + secrets.token_urlsafe(30)
    key = ApiKey.objects.create(
        name=name,
        region=region,
        key_digest=key_digest(raw),
        key_prefix=raw[:8],
        created_by=user_of(actor),
    )
    audit_record(
        actor=actor,
        verb="open311.key_create",
        target=key,
        region_code=region.code,
        changes={"name": [None, name], "region": [None, region.code]},
    )
    return key, raw


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey, reason: str) -> ApiKey:
    """Stop a key at once (kept, never deleted, so the audit trail keeps its name)."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("请说明停用原因。"), field="reason")
    locked = ApiKey.objects.select_for_update().get(pk=key.pk)
    require(actor, Perm.GRANTS_MANAGE, locked.region_id, view_perm=Perm.NETWORK_VIEW)
    if locked.revoked_at is not None:
        raise RuleViolation(_("该密钥已经停用。"), code="already_revoked")
    locked.revoked_at = timezone.now()
    locked.revoke_reason = reason[:200]
    locked.save(update_fields=["revoked_at", "revoke_reason"])
    audit_record(
        actor=actor,
        verb="open311.key_revoke",
        target=locked,
        region_code=locked.region_id,
        changes={"revoked": [False, True]},
        note=reason,
    )
    return locked


def api_key_check(raw: str) -> ApiKey:
    """The live key for a secret, else Forbidden (unknown and revoked alike)."""
    key = (
        ApiKey.objects.select_related("region")
        .filter(key_digest=key_digest(raw or ""), revoked_at__isnull=True)
        .first()
    )
    if key is None or not raw:
        raise Forbidden(_("api_key 无效或已停用。"), code="invalid_api_key")
    return key


def _key_hit(key: ApiKey) -> None:
    if not ratelimit.hit(f"open311:key:{key.pk}", PER_KEY_HOUR, 3600):
        raise RuleViolation(_("该密钥本小时提交太多，请稍后再试。"), code="rate_limited")


def _decimal(value: str, field: str, low: int, high: int) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise RuleViolation(_("坐标格式不正确。"), field=field) from None
    if not number.is_finite() or not (low <= number <= high):
        raise RuleViolation(_("坐标超出范围。"), field=field)
    return number.quantize(Decimal("0.000001"))


@transaction.atomic
def request_submit(*, key: ApiKey, params: dict[str, str], now: dt.datetime | None = None) -> Order:
    """POST requests: a service request for a menu item, posted with a live key for a
    village under the key's region. GeoReport v2 asks for a location (lat and long, or
    an address); the village comes from the service definition's `village` attribute.
    The requester's name and phone are required here (the order is followed up by
    phone and SMS). Becomes an order exactly as a resident's would."""
    _key_hit(key)
    lat = _decimal(params.get("lat", ""), "lat", -90, 90)
    lon = _decimal(params.get("long", ""), "long", -180, 180)
    address = (params.get("address_string") or params.get("address_id") or "").strip()
    if (lat is None) != (lon is None):
        raise RuleViolation(_("lat 和 long 需要一起提供。"), field="lat")
    if lat is None and not address:
        raise RuleViolation(
            _("需要提供位置：lat 和 long，或 address_string。"), field="address_string"
        )
    code = (params.get("service_code") or "").strip()
    try:
        item = service_for(code)
    except NotFound:
        raise RuleViolation(
            _("没有这项服务：service_code “%(c)s” 不存在或已下架（见 services.json）。")
            % {"c": code[:40]},
            field="service_code",
        ) from None
    village = _village_for(key, item, params, lat, lon, address)
    name = f"{params.get('last_name', '').strip()}{params.get('first_name', '').strip()}"
    order = demands.order_submit(
        data=demands.OrderInput(
            name=name,
            phone=params.get("phone", ""),
            region_code=village,
            menu_item_code=code,
            kind=RequestKind.MENU,
            address=address[:200],
            preferred_time=(params.get("attribute[preferred_time]") or "")[:100],
            details=(params.get("description") or "")[:1000],
            lat=lat,
            lon=lon,
        ),
        ip="",
        channel=Channel.API,
        now=now,
    )
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    audit_record(
        actor=None,
        verb="open311.request",
        target=order,
        region_code=order.region_id,
        note=str(key),
    )
    return order


# How far from a station a request's coordinates may be and still be its village's.
NEAREST_STATION_MAX_M = 10_000

_VILLAGE_SUFFIXES = ("社区居民委员会", "村民委员会", "社区居委会", "居委会", "村委会", "委会")


def _village_aliases(name: str) -> list[str]:
    """A village's official name and the shorter names people write in an address:
    马庄村委会 → 马庄村, 马庄; 王陵社区居委会 → 王陵社区, 王陵."""
    names = {name}
    for suffix in _VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            names.add(stem)
            if suffix in ("村委会", "村民委员会"):
                names.add(stem + "村")
            if suffix.startswith("社区"):
                names.add(stem + "社区")
    return sorted((n for n in names if len(n) >= 2), key=len, reverse=True)


def _village_for(
    key: ApiKey,
    item: Any,
    params: dict[str, str],
    lat: Decimal | None,
    lon: Decimal | None,
    address: str,
) -> str:
    """The resident's village, in the key's area and the service's: the `village`
    attribute when given; else the village the address names; else the village of the
    nearest station (within NEAREST_STATION_MAX_M) to lat/long. GeoReport v2 makes the
    location lat/long, address_string or address_id, so none of them is required alone."""
    from wenming.core.geo import distance_m
    from wenming.network.models import Unit, UnitKind

    area = [rc.prefix_of(key.region_id), rc.prefix_of(item.region_id)]
    prefix = max(area, key=len)
    if not all(prefix.startswith(p) for p in area):
        raise RuleViolation(_("本密钥不能提交这项服务。"), field="service_code")
    village = (params.get("attribute[village]") or "").strip()
    if village:
        if not rc.is_valid(village) or not village.startswith(prefix):
            raise RuleViolation(
                _("attribute[village] 须是本密钥可提交区域内的村（社区）代码。"),
                field="attribute[village]",
            )
        return village
    villages = Region.objects.filter(level=rc.Level.VILLAGE, code__startswith=prefix)
    if address:
        named = [
            (len(alias), code)
            for code, name in villages.values_list("code", "name")
            for alias in _village_aliases(name)
            if alias in address
        ]
        if named:
            return max(named)[1]
    if lat is not None and lon is not None:
        stations = Unit.objects.filter(
            kind=UnitKind.STATION,
            is_active=True,
            region__code__startswith=prefix,
            latitude__isnull=False,
            longitude__isnull=False,
        ).values_list("region_id", "latitude", "longitude")
        nearest = min(
            (
                (distance_m(float(lat), float(lon), float(s_lat), float(s_lon)), code)
                for code, s_lat, s_lon in stations
                if s_lat is not None and s_lon is not None
            ),
            default=None,
        )
        if nearest is not None and nearest[0] <= NEAREST_STATION_MAX_M:
            return nearest[1]
    raise RuleViolation(
        _(
            "无法确定服务对象所在的村（社区）：请在 address_string 中写明村（社区）名称，"
            "或提供 attribute[village]。"
        ),
        field="address_string",
    )


def service_for(code: str) -> Any:
    from wenming.demands.models import MenuItem

    item = (
        MenuItem.objects.select_related("unit", "subcategory", "region")
        .filter(code=code, is_active=True, unit__is_active=True)
        .first()
    )
    if item is None:
        raise NotFound(_("没有这项服务。"))
    return item
