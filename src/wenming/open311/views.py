"""Open311 GeoReport v2 over the service menu and resident orders, in JSON.

Field names and the error shape ([{"code": ..., "description": ...}]) follow the
GeoReport v2 specification. Request lists show no personal data: no requester, no
home address, no coordinates, no free text; the place is the village's name."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from wenming.core import regions as rc
from wenming.core.access import subtree_q
from wenming.core.errors import ServiceError
from wenming.demands.models import LIVE_STATES, MenuItem, Order, OrderState
from wenming.network.models import Region
from wenming.open311 import services

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_REQUESTS = 1000  # the most one GET requests returns
DEFAULT_DAYS = 90  # without dates, the last 90 days


def _json(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, safe=False, status=status, json_dumps_params={"ensure_ascii": False})


def _error(status: int, description: str) -> JsonResponse:
    return _json([{"code": status, "description": description}], status=status)


def _only_json(fmt: str) -> JsonResponse | None:
    if fmt != "json":
        return _error(400, _("只提供 JSON 格式：请把 .%(f)s 换成 .json。") % {"f": fmt})
    return None


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    if (bad := _only_json(fmt)) is not None:
        return bad
    base = request.build_absolute_uri(reverse("open311:services", args=["json"]))
    return _json(
        {
            "changeset": "2026-11-29T00:00:00+08:00",
            "contact": settings.WENMING_OPEN311_CONTACT,
            "key_service": _("向所在县的新时代文明实践中心申请 api_key。"),
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": base.rsplit("/", 1)[0],
                    "changeset": "2026-11-29T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


def _service(item: MenuItem) -> dict[str, Any]:
    keywords = [str(item.get_work_item_display())]
    if item.subcategory is not None:
        keywords.append(item.subcategory.name)
    return {
        "service_code": item.code,
        "service_name": item.title,
        "description": item.description,
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(keywords),
        "group": str(item.get_work_item_display()),
    }


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    """GET services: every active menu item; `jurisdiction_id` (a region code) narrows
    to the items offered in that region: its own, those of the regions above it and
    those of the places below it."""
    if (bad := _only_json(fmt)) is not None:
        return bad
    items = MenuItem.objects.filter(is_active=True, unit__is_active=True).select_related(
        "subcategory"
    )
    jurisdiction = request.GET.get("jurisdiction_id", "").strip()
    if jurisdiction:
        if not rc.is_valid(jurisdiction):
            return _error(400, _("jurisdiction_id 须是 12 位区划代码。"))
        items = items.filter(
            Q(region_id__in=[*rc.ancestors_of(jurisdiction), jurisdiction])
            | subtree_q("region_id", rc.prefix_of(jurisdiction))
        )
    return _json([_service(i) for i in items.order_by("work_item", "title", "id")])


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """GET a service definition: the attributes a request for this service carries —
    the resident's village (optional; the villages this service is offered to) and a
    preferred time (optional)."""
    if (bad := _only_json(fmt)) is not None:
        return bad
    try:
        item = services.service_for(code)
    except ServiceError as exc:
        return _error(404, exc.message)
    villages = Region.objects.filter(level=rc.Level.VILLAGE).filter(
        code__startswith=rc.prefix_of(item.region_id)
    )
    return _json(
        {
            "service_code": item.code,
            "attributes": [
                {
                    "variable": True,
                    "code": "village",
                    "datatype": "singlevaluelist",
                    # Optional: without it, the village comes from address_string (a
                    # village named in it) or lat/long (the nearest station).
                    "required": False,
                    "datatype_description": _(
                        "所在村（社区）的 12 位代码；不填时按 address_string 中的村名"
                        "或 lat/long 最近的实践站确定"
                    ),
                    "order": 1,
                    "description": _("服务对象所在的村（社区）"),
                    "values": [{"key": v.code, "name": v.name} for v in villages.order_by("code")],
                },
                {
                    "variable": True,
                    "code": "preferred_time",
                    "datatype": "string",
                    "required": False,
                    "datatype_description": _("例如：周六上午"),
                    "order": 2,
                    "description": _("希望服务的时间"),
                },
            ],
        }
    )


def _status_notes(order: Order) -> str:
    # Never the rejection reason: that is shown to the requester only.
    return str(order.get_state_display())


def _request(order: Order) -> dict[str, Any]:
    return {
        "service_request_id": order.number,
        "status": "open" if order.state in LIVE_STATES else "closed",
        "status_notes": _status_notes(order),
        "service_name": order.title,
        "service_code": order.menu_item.code if order.menu_item else "",
        "description": order.title,
        "agency_responsible": order.unit.name,
        "service_notice": "",
        "requested_datetime": _iso(order.requested_at),
        "updated_datetime": _iso(order.updated_at),
        "expected_datetime": _iso(order.complete_by or order.respond_by),
        "address": order.region.name,
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": "",
    }


def _public_orders() -> QuerySet[Order]:
    return (
        Order.objects.filter(menu_item__isnull=False)
        .select_related("menu_item", "unit", "region")
        .only(
            "number", "state", "title", "requested_at", "updated_at", "complete_by",
            "respond_by", "menu_item__code", "unit__name", "region__name",
        )
    )  # fmt: skip


def _when(raw: str, name: str) -> dt.datetime:
    value = parse_datetime(raw.strip())
    if value is None:
        raise ValueError(
            _("%(n)s 须是 ISO 8601 时间，例如 2026-11-05T08:15:30+08:00。") % {"n": name}
        )
    return value if timezone.is_aware(value) else timezone.make_aware(value)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if (bad := _only_json(fmt)) is not None:
        return bad
    if request.method == "POST":
        return _post_request(request)
    orders = _public_orders()
    ids = [i.strip().upper() for i in request.GET.get("service_request_id", "").split(",")]
    ids = [i for i in ids if i]
    if ids:
        # The ids given win over every other filter (the specification says so).
        orders = orders.filter(number__in=ids[:MAX_REQUESTS])
    else:
        try:
            end = (
                _when(request.GET["end_date"], "end_date") if request.GET.get("end_date") else None
            )
            start = (
                _when(request.GET["start_date"], "start_date")
                if request.GET.get("start_date")
                else None
            )
        except ValueError as exc:
            return _error(400, str(exc))
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start is not None:
            orders = orders.filter(requested_at__gte=start)
        if end is not None:
            orders = orders.filter(requested_at__lte=end)
        if code := request.GET.get("service_code", "").strip():
            orders = orders.filter(menu_item__code__in=[c.strip() for c in code.split(",")])
        status = request.GET.get("status", "").strip()
        if status == "open":
            orders = orders.filter(state__in=LIVE_STATES)
        elif status == "closed":
            orders = orders.exclude(state__in=LIVE_STATES)
        elif status:
            return _error(400, _("status 只能是 open 或 closed。"))
    orders = orders.order_by("-requested_at", "-id")[:MAX_REQUESTS]
    return _json([_request(o) for o in orders])


def service_notice(order: Order) -> str:
    """What the client may tell the resident now, true to the order's state."""
    if order.state == OrderState.SUBMITTED:
        return _("已收到，等待%(u)s审核；进度短信会发给服务对象。") % {"u": order.unit.name}
    return _("已受理，将由%(u)s处理；进度短信会发给服务对象。") % {"u": order.unit.name}


def _post_request(request: HttpRequest) -> HttpResponse:
    try:
        key = services.api_key_check(request.POST.get("api_key", ""))
    except ServiceError as exc:
        return _error(403, exc.message)
    try:
        order = services.request_submit(key=key, params=request.POST.dict())
    except ServiceError as exc:
        status = 404 if exc.status == 404 else 429 if exc.code == "rate_limited" else 400
        field = f" ({exc.field})" if exc.field else ""
        return _error(status, f"{exc.message}{field}")
    return _json(
        [
            {
                "service_request_id": order.number,
                "service_notice": service_notice(order),
                "account_id": None,
            }
        ],
        status=201,
    )


@require_GET
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    if (bad := _only_json(fmt)) is not None:
        return bad
    order = _public_orders().filter(number=number.strip().upper()).first()
    if order is None:
        return _error(404, _("没有这个诉求编号。"))
    return _json([_request(order)])
