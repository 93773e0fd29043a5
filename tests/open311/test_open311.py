"""Open311 GeoReport v2: the responses carry exactly the specification's JSON fields,
errors come as [{code, description}], posting needs a live key for the right region,
and request lists show no personal data."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.demands.helpers import RESIDENT_PHONE, menu_item, state, submit
from wenming.core.models import AuditEvent
from wenming.demands.models import Channel, Order
from wenming.open311 import services
from wenming.open311.models import ApiKey

pytestmark = pytest.mark.django_db

SERVICE_FIELDS = {
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
}  # fmt: skip
ATTRIBUTE_FIELDS = {
    "variable", "code", "datatype", "required", "datatype_description", "order", "description",
}  # fmt: skip
POST_FIELDS = {"service_request_id", "service_notice", "account_id"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
}  # fmt: skip
ERROR_FIELDS = {"code", "description"}


def assert_error(response, status: int) -> None:
    assert response.status_code == status
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == ERROR_FIELDS and body[0]["code"] == status


@pytest.fixture
def item(cast, net):
    return menu_item(cast.station_admin, net.station)


@pytest.fixture
def key(cast, net):
    key, raw = services.api_key_create(
        actor=cast.county_admin, name="12345热线", region_code=net.county.code
    )
    key.raw = raw
    return key


def post(client, key_raw: str, item, **overrides):
    data = {
        "api_key": key_raw,
        "service_code": item.code,
        "lat": "34.393401",
        "long": "117.459201",
        "attribute[village]": "320305005204",
        "attribute[preferred_time]": "周六上午",
        "first_name": "大爷",
        "last_name": "王",
        "phone": RESIDENT_PHONE,
        "description": "腿脚不便，想请人上门理发",
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/open311/v2/requests.json", data)


def test_services_list_has_the_spec_fields(client, item, cast, net):
    other = menu_item(cast.county_admin, net.center, title="政策宣讲进村")
    body = client.get("/open311/v2/services.json").json()
    assert {s["service_code"] for s in body} == {item.code, other.code}
    for service in body:
        assert set(service) == SERVICE_FIELDS
        assert service["metadata"] is True and service["type"] == "realtime"
    mine = next(s for s in body if s["service_code"] == item.code)
    assert mine["service_name"] == "上门理发" and mine["group"] == "培育践行主流价值"


def test_services_by_jurisdiction(client, item, cast, net):
    county_item = menu_item(cast.county_admin, net.center, title="政策宣讲进村")
    village2 = client.get(f"/open311/v2/services.json?jurisdiction_id={net.village2.code}")
    # 唐庄 sees the county's menu, not 马庄's station's.
    assert [s["service_code"] for s in village2.json()] == [county_item.code]
    town = client.get(f"/open311/v2/services.json?jurisdiction_id={net.town.code}").json()
    assert {s["service_code"] for s in town} == {item.code, county_item.code}
    assert_error(client.get("/open311/v2/services.json?jurisdiction_id=12"), 400)


def test_only_json_is_served(client, item):
    assert_error(client.get("/open311/v2/services.xml"), 400)
    assert_error(client.get(f"/open311/v2/services/{item.code}.xml"), 400)


def test_service_definition_offers_the_villages_it_serves(client, item, net):
    body = client.get(f"/open311/v2/services/{item.code}.json").json()
    assert set(body) == {"service_code", "attributes"}
    village, preferred = body["attributes"]
    for attribute in body["attributes"]:
        assert set(attribute) >= ATTRIBUTE_FIELDS
    # Optional: GeoReport v2 makes lat/long or address_string the location.
    assert village["code"] == "village" and village["required"] is False
    assert village["datatype"] == "singlevaluelist"
    assert village["values"] == [{"key": net.village.code, "name": net.village.name}]
    assert preferred["code"] == "preferred_time" and preferred["required"] is False
    assert_error(client.get("/open311/v2/services/NOPE.json"), 404)


def test_discovery(client):
    body = client.get("/open311/v2/discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["url"].endswith("/open311/v2")


def test_post_a_request_becomes_an_order(key, item, net):
    client = Client(enforce_csrf_checks=True)  # API clients send no CSRF token
    response = post(client, key.raw, item)
    assert response.status_code == 201
    (answer,) = response.json()
    assert set(answer) == POST_FIELDS
    order = Order.objects.get(number=answer["service_request_id"])
    assert (order.channel, order.menu_item_id, order.region_id) == (
        Channel.API,
        item.pk,
        net.village.code,
    )
    assert order.preferred_time == "周六上午" and order.requester_name_masked.startswith("王")
    assert str(order.lat) == "34.393401"
    assert AuditEvent.objects.filter(verb="open311.request", target_id=str(order.pk)).exists()
    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "o311_guessed"}, 403),
        ({"lat": None, "long": None}, 400),  # no location at all
        ({"long": None}, 400),  # half a coordinate
        ({"lat": "91"}, 400),
        ({"attribute[village]": "320311001001"}, 400),  # outside the key's region
        ({"attribute[village]": None}, 400),
        ({"phone": ""}, 400),
        ({"first_name": "", "last_name": ""}, 400),
        ({"service_code": "NOPE"}, 400),
    ],
)
def test_bad_posts_are_refused_and_change_nothing(client, key, item, overrides, status):
    before = state()
    assert_error(post(client, key.raw, item, **overrides), status)
    assert state() == before


def test_a_revoked_key_stops_at_once(client, key, item, cast):
    services.api_key_revoke(actor=cast.county_admin, key=key, reason="合作结束")
    before = state()
    assert_error(post(client, key.raw, item), 403)
    assert state() == before


def test_an_address_is_enough_location(client, key, item):
    response = post(client, key.raw, item, lat=None, long=None, address_string="马庄村三组")
    assert response.status_code == 201


def test_posting_is_rate_limited_per_key(client, key, item, monkeypatch):
    monkeypatch.setattr(services, "PER_KEY_HOUR", 1)
    assert post(client, key.raw, item).status_code == 201
    assert_error(post(client, key.raw, item, phone="13700000002"), 429)


def test_request_lists_show_no_personal_data(client, key, item, net):
    placed = submit(item)
    body = client.get("/open311/v2/requests.json").json()
    assert [r["service_request_id"] for r in body] == [placed.number]
    (request,) = body
    assert set(request) == REQUEST_FIELDS
    assert request["status"] == "open" and request["service_code"] == item.code
    assert request["address"] == net.village.name and request["lat"] is None
    text = str(body)
    for secret in ("王大爷", RESIDENT_PHONE, "三组", "腿脚不便"):
        assert secret not in text
    assert request["requested_datetime"].endswith("+08:00")


def test_request_filters(client, item, cast):
    first = submit(item)
    second = submit(item, phone="13700000002")
    from wenming.demands import services as demands

    demands.order_reject(actor=cast.station_admin, order=second, reason="重复提交")
    get = client.get
    assert {
        r["service_request_id"] for r in get("/open311/v2/requests.json?status=open").json()
    } == {first.number}
    closed = get("/open311/v2/requests.json?status=closed").json()
    assert [(r["service_request_id"], r["status"]) for r in closed] == [(second.number, "closed")]
    assert "重复提交" not in str(closed)  # the reason is for the requester only
    by_id = get(f"/open311/v2/requests.json?service_request_id={second.number.lower()}").json()
    assert [r["service_request_id"] for r in by_id] == [second.number]
    assert get("/open311/v2/requests.json?start_date=2999-01-01T00:00:00Z").json() == []
    assert len(get(f"/open311/v2/requests.json?service_code={item.code}").json()) == 2
    assert_error(get("/open311/v2/requests.json?status=maybe"), 400)
    assert_error(get("/open311/v2/requests.json?start_date=yesterday"), 400)


def test_one_request(client, item):
    order = submit(item)
    (request,) = client.get(f"/open311/v2/requests/{order.number}.json").json()
    assert set(request) == REQUEST_FIELDS and request["service_request_id"] == order.number
    assert_error(client.get("/open311/v2/requests/AAAAA-AAAAA.json"), 404)


def test_request_list_takes_a_constant_number_of_queries(client, item):
    submit(item)
    with CaptureQueriesContext(connection) as few:
        client.get("/open311/v2/requests.json")
    for n in range(2, 8):
        submit(item, phone=f"1370000000{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/open311/v2/requests.json").json()) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


# ---------------------------------------------------------------- the keys page


def test_county_admin_makes_a_key_shown_once(client, cast, net, login):
    login(cast.county_admin)
    page = client.post("/open311/keys/", {"name": "城市App", "region_code": net.county.code})
    assert page.status_code == 200
    html = page.content.decode()
    key = ApiKey.objects.get(name="城市App")
    raw = html.split('user-select-all text-break">')[1].split("<")[0]
    assert raw.startswith(key.key_prefix) and services.key_digest(raw) == key.key_digest
    assert raw not in client.get("/open311/keys/").content.decode()
    assert AuditEvent.objects.filter(verb="open311.key_create").count() == 1


@pytest.mark.parametrize("who", ["station_admin", "supervisor", "volunteer"])
def test_others_cannot_manage_keys(client, cast, net, login, who):
    login(getattr(cast, who))
    assert client.get("/open311/keys/").status_code == 403
    before = ApiKey.objects.count()
    assert (
        client.post("/open311/keys/", {"name": "x", "region_code": net.county.code}).status_code
        == 403
    )
    assert ApiKey.objects.count() == before


def test_revoke_needs_a_reason_and_scope(client, cast, net, login, key):
    login(cast.outsider)
    assert client.post(f"/open311/keys/{key.pk}/revoke/", {"reason": "x"}).status_code == 404
    login(cast.county_admin)
    client.post(f"/open311/keys/{key.pk}/revoke/", {"reason": ""})
    key.refresh_from_db()
    assert key.revoked_at is None
    client.post(f"/open311/keys/{key.pk}/revoke/", {"reason": "合作结束"})
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoke_reason == "合作结束"
    assert AuditEvent.objects.filter(verb="open311.key_revoke").count() == 1


def test_a_key_outside_ones_scope_cannot_be_made(cast, net):
    from wenming.core.errors import ServiceError

    with pytest.raises(ServiceError):
        services.api_key_create(actor=cast.outsider, name="x", region_code=net.county.code)
    assert not ApiKey.objects.exists()


# ---------------------------------------------------------------- location as the spec has it


def test_lat_long_alone_reach_the_nearest_station(client, key, item, net, cast):
    """GeoReport v2 makes lat/long the location: no village attribute needed."""
    from wenming.network import services as network

    network.unit_update(
        actor=cast.county_admin, unit=net.station, latitude="34.393000", longitude="117.459000"
    )
    network.unit_update(
        actor=cast.county_admin, unit=net.station2, latitude="34.450000", longitude="117.500000"
    )
    response = post(client, key.raw, item, **{"attribute[village]": None})
    assert response.status_code == 201
    order = Order.objects.get(number=response.json()[0]["service_request_id"])
    assert order.region_id == net.village.code  # 马庄's station is the nearer


def test_a_village_named_in_the_address_is_enough(client, key, item, net):
    response = post(
        client,
        key.raw,
        item,
        **{"attribute[village]": None, "lat": None, "long": None},
        address_string="潘安湖街道马庄村三组12号",
    )
    assert response.status_code == 201
    order = Order.objects.get(number=response.json()[0]["service_request_id"])
    assert order.region_id == net.village.code


def test_far_coordinates_and_no_village_name_are_refused_clearly(client, key, item, net):
    before = state()
    response = post(client, key.raw, item, **{"attribute[village]": None})
    assert_error(response, 400)
    assert "村（社区）" in response.json()[0]["description"]
    assert state() == before


def test_an_unknown_service_code_says_so(client, key, item):
    before = state()
    response = post(client, key.raw, item, service_code="NOPE")
    assert_error(response, 400)
    assert "service_code “NOPE” 不存在" in response.json()[0]["description"]
    assert state() == before


def test_the_notice_says_review_when_the_unit_reviews_first(client, key, item, net):
    from wenming.demands.models import OrderState

    response = post(client, key.raw, item)
    order = Order.objects.get(number=response.json()[0]["service_request_id"])
    assert order.state == OrderState.SUBMITTED
    assert response.json()[0]["service_notice"] == (
        f"已收到，等待{order.unit.name}审核；进度短信会发给服务对象。"
    )
