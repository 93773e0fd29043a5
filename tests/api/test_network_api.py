"""The REST API over the network, accounts and audit log: scope, errors, CSRF, paging."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD, make_user
from tests.network.snapshot import db_state
from tests.shared import queries_for
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.network.models import RoleGrant, Unit, UnitKind

VILLAGE = "320305005204"
UNIT_KEYS = {
    "id",
    "kind",
    "name",
    "region_code",
    "region_name",
    "parent_id",
    "address",
    "phone",
    "description",
    "latitude",
    "longitude",
    "is_active",
}


@pytest.fixture
def api_as(client):
    """A test client logged in (through the login form) as a user."""

    def do(user, enforce_csrf: bool = False) -> Client:
        c = Client(enforce_csrf_checks=True) if enforce_csrf else client
        c.cookies.clear()
        response = c.post("/accounts/login/", {"phone": user.phone, "password": PASSWORD})
        if enforce_csrf:
            # The login form itself needs the token: fetch it first.
            c.get("/accounts/login/")
            token = c.cookies["csrftoken"].value
            response = c.post(
                "/accounts/login/",
                {"phone": user.phone, "password": PASSWORD, "csrfmiddlewaretoken": token},
            )
        assert response.status_code == 302
        return c

    return do


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


# ---------------------------------------------------------------- anonymous


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/network/units"),
        ("get", "/api/network/units/{unit}"),
        ("get", "/api/network/units/{unit}/staff"),
        ("get", "/api/network/regions"),
        ("get", "/api/accounts/me"),
        ("get", "/api/audit/events"),
        ("post", "/api/network/units"),
        ("patch", "/api/network/units/{unit}"),
    ],
)
def test_anonymous_gets_401(client, net, method, path):
    before = db_state()
    response = getattr(client, method)(
        path.format(unit=net.station.pk), {"name": "x"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录。", "field": None}
    assert db_state() == before


# ---------------------------------------------------------------- units


def test_units_list_scoped_and_paged(api_as, cast, net):
    response = api_as(cast.county_admin).get("/api/network/units")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert "泉山区新时代文明实践中心" not in names(response)
    first = body["items"][0]
    assert set(first) == UNIT_KEYS
    assert first == {
        "id": net.center.pk,
        "kind": "center",
        "name": "贾汪区新时代文明实践中心",
        "region_code": "320305000000",
        "region_name": "贾汪区",
        "parent_id": None,
        "address": "",
        "phone": "",
        "description": "",
        "latitude": None,
        "longitude": None,
        "is_active": True,
    }


def test_units_list_for_station_admin_and_outsider(api_as, cast, net):
    assert names(api_as(cast.station_admin).get("/api/network/units")) == [
        "马庄村文化礼堂实践点",
        "马庄新时代文明实践站",
    ]
    assert names(api_as(cast.outsider).get("/api/network/units")) == [
        "泉山区新时代文明实践中心",
        "王陵街道新时代文明实践所",
    ]
    assert api_as(cast.volunteer).get("/api/network/units").json() == {"items": [], "count": 0}


def test_units_list_search_kind_region(api_as, cast, net):
    client = api_as(cast.sysadmin)
    assert names(client.get("/api/network/units", {"q": "唐庄"})) == ["唐庄新时代文明实践站"]
    assert names(client.get("/api/network/units", {"kind": "center"})) == [
        "贾汪区新时代文明实践中心",
        "泉山区新时代文明实践中心",
    ]
    assert names(client.get("/api/network/units", {"region": "320305102"})) == [
        "青山泉镇新时代文明实践所",
        "马庄村新时代文明实践站",
    ]
    # Junk prefixes select nothing rather than erroring.
    assert names(client.get("/api/network/units", {"region": "abc"})) == []


def test_units_list_paging(api_as, cast, net):
    Unit.objects.bulk_create(
        Unit(kind=UnitKind.POINT, name=f"点{i:02d}", region_id="320305000000", parent=net.center)
        for i in range(30)
    )
    client = api_as(cast.county_admin)
    first = client.get("/api/network/units").json()
    second = client.get("/api/network/units", {"page": 2}).json()
    assert (first["count"], len(first["items"]), len(second["items"])) == (37, 25, 12)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    # The page size is fixed; a caller's page_size is ignored and page must be >= 1.
    assert len(client.get("/api/network/units", {"page_size": 100}).json()["items"]) == 25
    assert client.get("/api/network/units", {"page": 0}).status_code == 422
    assert client.get("/api/network/units", {"page": -3}).status_code == 422
    # A huge page number is refused rather than overflowing the database's OFFSET.
    assert client.get("/api/network/units", {"page": 2**62}).status_code == 422
    assert client.get("/api/network/units", {"page": 100_000}).json()["items"] == []


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("county_admin", 200),
        ("supervisor", 200),
        ("station_admin", 200),
        ("outsider", 404),
        ("volunteer", 404),
    ],
)
def test_unit_get(api_as, cast, net, who, status):
    response = api_as(getattr(cast, who)).get(f"/api/network/units/{net.station.pk}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "马庄新时代文明实践站"
        assert response.json()["parent_id"] == net.institute.pk
    else:
        assert response.json()["code"] == "not_found"
        assert "马庄" not in response.content.decode()


def test_unit_get_missing_is_404(api_as, cast, net):
    response = api_as(cast.sysadmin).get("/api/network/units/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# ---------------------------------------------------------------- create


NEW_POINT = {"kind": "point", "name": "马庄农家书屋", "region_code": VILLAGE, "address": "马庄村"}


def test_unit_create_201(api_as, cast, net):
    response = api_as(cast.county_admin).post(
        "/api/network/units", NEW_POINT, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    unit = Unit.objects.get(name="马庄农家书屋")
    assert body == {
        "id": unit.pk,
        "kind": "point",
        "name": "马庄农家书屋",
        "region_code": VILLAGE,
        "region_name": "马庄村委会",
        "parent_id": net.station.pk,
        "address": "马庄村",
        "phone": "",
        "description": "",
        "latitude": None,
        "longitude": None,
        "is_active": True,
    }
    assert AuditEvent.objects.filter(verb="unit.create", actor=cast.county_admin).count() == 1


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("supervisor", 403, "forbidden"),
        ("team_leader", 403, "forbidden"),
        ("outsider", 404, "not_found"),
        ("volunteer", 404, "not_found"),
    ],
)
def test_unit_create_denied(api_as, cast, net, who, status, code):
    client = api_as(getattr(cast, who))
    before = db_state()
    response = client.post("/api/network/units", NEW_POINT, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "message", "field"}
    assert db_state() == before


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({**NEW_POINT, "kind": "center"}, "region", "新时代文明实践中心 应设在县（区）一级。"),
        ({**NEW_POINT, "kind": "station"}, "region", "该区划已有新时代文明实践站。"),
        ({**NEW_POINT, "name": "马庄村文化礼堂实践点"}, "name", "同一区划内已有同名单位。"),
        ({**NEW_POINT, "name": "  "}, "name", "请填写单位名称。"),
        ({**NEW_POINT, "kind": "school"}, "kind", "单位类型不正确。"),
    ],
)
def test_unit_create_rule_violation_shape(api_as, cast, net, payload, field, message):
    client = api_as(cast.county_admin)
    before = db_state()
    response = client.post("/api/network/units", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "rule_violation", "message": message, "field": field}
    assert db_state() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [({**NEW_POINT, "name": "长" * 101}, "name")],
)
def test_unit_create_text_the_database_cannot_hold_is_400(api_as, cast, net, payload, field):
    client = api_as(cast.county_admin)
    before = db_state()
    response = client.post("/api/network/units", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["field"] == field
    response = client.patch(
        f"/api/network/units/{net.station.pk}",
        {field: payload[field]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert db_state() == before


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/network/units", {"q": "马\x00庄"}),
        ("/api/network/units", {"kind": "point\x00"}),
        ("/api/network/regions", {"q": "马\x00"}),
        ("/api/network/regions", {"parent": "320305\x00"}),
        ("/api/audit/events", {"verb": "unit\x00", "region": "32\x00"}),
        ("/network/units/", {"q": "马\x00庄"}),
    ],
)
def test_nul_characters_in_search_are_refused(api_as, cast, net, url, params):
    """PostgreSQL refuses NUL in text parameters; one middleware answers 400 for any
    query string carrying one, before it reaches a query (never a 500)."""
    assert api_as(cast.county_admin).get(url, params).status_code == 400


def test_nul_in_the_audit_page_actor_filter_is_refused(login, cast, net):
    assert login(cast.county_admin).get("/audit/", {"actor": "王\x00"}).status_code == 400


def test_unit_create_schema_error_is_422(api_as, cast, net):
    client = api_as(cast.county_admin)
    before = db_state()
    response = client.post("/api/network/units", {"kind": "point"}, content_type="application/json")
    assert response.status_code == 422
    assert db_state() == before


def test_unit_create_without_csrf_token_refused(api_as, cast, net):
    client = api_as(cast.county_admin, enforce_csrf=True)
    before = db_state()
    response = client.post("/api/network/units", NEW_POINT, content_type="application/json")
    assert response.status_code == 403
    assert db_state() == before
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/network/units", NEW_POINT, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201


# ---------------------------------------------------------------- patch


def test_unit_patch(api_as, cast, net):
    client = api_as(cast.institute_admin)
    response = client.patch(
        f"/api/network/units/{net.station.pk}",
        {"address": "马庄村 1 号", "is_active": False},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["address"], response.json()["is_active"]) == ("马庄村 1 号", False)
    assert response.json()["name"] == "马庄新时代文明实践站"  # untouched
    event = AuditEvent.objects.get(verb="unit.update")
    assert event.changes == {"address": ["", "马庄村 1 号"], "is_active": [True, False]}


@pytest.mark.parametrize(
    ("who", "status"),
    [("supervisor", 403), ("team_leader", 403), ("outsider", 404), ("volunteer", 404)],
)
def test_unit_patch_denied(api_as, cast, net, who, status):
    client = api_as(getattr(cast, who))
    before = db_state()
    response = client.patch(
        f"/api/network/units/{net.station.pk}", {"name": "被改了"}, content_type="application/json"
    )
    assert response.status_code == status
    assert db_state() == before


def test_unit_patch_rule_violation(api_as, cast, net):
    client = api_as(cast.county_admin)
    before = db_state()
    response = client.patch(
        f"/api/network/units/{net.station.pk}",
        {"name": "马庄村文化礼堂实践点"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "rule_violation",
        "message": "同一区划内已有同名单位。",
        "field": "name",
    }
    assert db_state() == before


# ---------------------------------------------------------------- staff, regions, me, audit


def test_unit_staff_masked(api_as, cast, net):
    response = api_as(cast.supervisor).get(f"/api/network/units/{net.station.pk}/staff")
    assert response.status_code == 200
    staff = {(s["user_name"], s["role"]): s for s in response.json()}
    # The volunteer's grant on the village is not a staff role.
    assert set(staff) == {("站管理员", "station_admin")}
    assert staff[("站管理员", "station_admin")] == {
        "id": RoleGrant.objects.get(user=cast.station_admin).pk,
        "role": "station_admin",
        "role_label": "站管理员",
        "region_code": VILLAGE,
        "unit_id": net.station.pk,
        "user_id": cast.station_admin.pk,
        "user_name": "站管理员",
        "user_phone": cast.station_admin.phone_masked,
    }
    body = response.content.decode()
    assert cast.station_admin.phone not in body
    assert cast.volunteer.phone not in body


def test_unit_staff_outsider_404(api_as, cast, net):
    response = api_as(cast.outsider).get(f"/api/network/units/{net.station.pk}/staff")
    assert response.status_code == 404
    assert "站管理员" not in response.content.decode()


def test_regions(api_as, cast, net):
    client = api_as(cast.institute_admin)
    body = client.get("/api/network/regions").json()
    assert [r["code"] for r in body["items"]] == ["320305005000", "320305005200", "320305005204"]
    assert body["items"][0] == {
        "code": "320305005000",
        "name": "潘安湖街道",
        "level": 4,
        "parent_id": "320305000000",
    }
    county = api_as(cast.county_admin)
    children = county.get("/api/network/regions", {"parent": "320305000000"}).json()
    assert [r["name"] for r in children["items"]] == ["潘安湖街道", "青山泉镇"]
    assert [
        r["code"] for r in county.get("/api/network/regions", {"q": "马庄"}).json()["items"]
    ] == [
        "320305005204",
        "320305102200",
    ]
    outsider = api_as(cast.outsider).get("/api/network/regions").json()
    assert {r["code"][:6] for r in outsider["items"]} == {"320311"}


def test_me(api_as, cast, net):
    response = api_as(cast.station_admin).get("/api/accounts/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": cast.station_admin.pk,
        "name": "站管理员",
        "phone": cast.station_admin.phone_masked,
        "grants": [{"role": "station_admin", "role_label": "站管理员", "region_code": VILLAGE}],
    }


def test_audit_events_scoped(api_as, cast, net):
    from wenming.network.services import unit_update

    unit_update(actor=cast.county_admin, unit=net.station, address="马庄村")
    unit_update(actor=cast.outsider, unit=net.other_center, address="泉山区")
    county = api_as(cast.county_admin).get("/api/audit/events", {"verb": "unit.update"}).json()
    assert [(e["verb"], e["region_code"]) for e in county["items"]] == [("unit.update", VILLAGE)]
    assert county["items"][0]["changes"] == {"address": ["", "马庄村"]}
    assert county["items"][0]["actor_label"] == f"县管理员 (#{cast.county_admin.pk})"
    sysadmin = api_as(cast.sysadmin).get("/api/audit/events", {"verb": "unit.update"}).json()
    assert sysadmin["count"] == 2
    # A volunteer has no audit scope: it sees only its own actions (its login).
    volunteer = api_as(cast.volunteer).get("/api/audit/events").json()
    assert {e["verb"] for e in volunteer["items"]} <= {"user.login"}
    assert all(e["region_code"] != VILLAGE or e["verb"] == "user.login" for e in volunteer["items"])


# ---------------------------------------------------------------- query counts


_count = queries_for


def test_list_endpoints_make_a_constant_number_of_queries(api_as, cast, net):
    client = api_as(cast.county_admin)

    def add(start: int, count: int) -> None:
        Unit.objects.bulk_create(
            Unit(kind=UnitKind.POINT, name=f"点{i:03d}", region_id=VILLAGE, parent=net.station)
            for i in range(start, start + count)
        )
        for i in range(start, start + count):
            make_user(f"1370000{i:04d}", f"员{i}", Role.TEAM_LEADER, VILLAGE, net.station)

    urls = [
        "/api/network/units",
        "/api/network/regions",
        f"/api/network/units/{net.station.pk}/staff",
        "/api/audit/events",
    ]
    add(0, 5)
    client.get(urls[0])
    few = {url: _count(client, url) for url in urls}
    add(5, 35)
    many = {url: _count(client, url) for url in urls}
    assert few == many
    assert len(client.get(urls[2]).json()) == 41  # the station admin and 40 team leaders


# ---------------------------------------------------------------- schema and docs


def test_openapi_and_docs(api_as, client, cast, net):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {
        "/api/network/units",
        "/api/network/units/{unit_id}",
        "/api/network/units/{unit_id}/staff",
        "/api/network/regions",
        "/api/accounts/me",
        "/api/audit/events",
    } <= set(paths)
    params = {p["name"] for p in paths["/api/network/units"]["get"]["parameters"]}
    assert params == {"q", "kind", "region", "page"}
    assert client.get("/api/docs").status_code == 200
