"""The volunteers API: scope, masking, errors, registration and edits, paging."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import PASSWORD
from tests.volunteers.test_services import counts, id_number, register
from wenming.core.models import AuditEvent
from wenming.volunteers.models import RegistrationPolicy, Skill, Volunteer

ID = id_number(seq="123")
PHONE = "13712340000"
VILLAGE = "320305005204"
LIST_KEYS = {
    "id",
    "number",
    "name",
    "gender",
    "status",
    "id_type",
    "id_masked",
    "phone_masked",
    "region_code",
    "region_name",
    "unit_id",
    "unit_name",
    "political_status",
    "is_minor",
    "star_level",
    "confirmed_hours",
    "created_at",
}
DETAIL_KEYS = LIST_KEYS | {"skills", "service_region_codes", "availability", "review_note"}
VIEWERS = [
    "sysadmin",
    "county_admin",
    "institute_admin",
    "station_admin",
    "supervisor",
    "team_leader",
]


@pytest.fixture
def api_as(client):
    """The test client logged in (through the login form) as a user."""

    def do(user):
        client.cookies.clear()
        response = client.post("/accounts/login/", {"phone": user.phone, "password": PASSWORD})
        assert response.status_code == 302
        return client

    return do


@pytest.fixture
def volunteer(cast):
    return register(cast.county_admin, 0, id_number=ID, phone=PHONE, name="张三")


def payload(**overrides):
    data = {
        "name": "李四",
        "phone": "13712345678",
        "id_number": id_number(seq="321"),
        "region_code": VILLAGE,
        "consent": True,
    }
    data.update(overrides)
    return data


def item_names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/volunteers"),
        ("get", "/api/volunteers/skills"),
        ("get", "/api/volunteers/{id}"),
        ("post", "/api/volunteers"),
        ("patch", "/api/volunteers/{id}"),
    ],
)
def test_anonymous_gets_401(client, volunteer, method, path):
    before = counts()
    response = getattr(client, method)(
        path.format(id=volunteer.pk), payload(), content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "请先登录。", "field": None}
    assert counts() == before


@pytest.mark.parametrize("who", VIEWERS)
def test_masked_numbers_only(cast, api_as, volunteer, who):
    client = api_as(getattr(cast, who))
    listing = client.get("/api/volunteers")
    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    item = listing.json()["items"][0]
    assert set(item) == LIST_KEYS
    detail = client.get(f"/api/volunteers/{volunteer.pk}")
    assert set(detail.json()) == DETAIL_KEYS
    for response in (listing, detail):
        body = response.content.decode()
        assert ID not in body and PHONE not in body
    assert (item["id_masked"], item["phone_masked"], item["number"]) == (
        volunteer.id_masked,
        "137****0000",
        volunteer.number,
    )
    assert (item["region_code"], item["unit_name"]) == (VILLAGE, "马庄新时代文明实践站")


def test_scoping(cast, api_as, volunteer):
    register(cast.county_admin, 1, name="唐庄人", region_code="320305005200")
    register(cast.county_admin, 2, name="青山泉人", region_code="320305102200")
    expected = {
        "county_admin": {"张三", "唐庄人", "青山泉人"},
        "institute_admin": {"张三", "唐庄人"},
        "station_admin": {"张三"},
        "outsider": set(),
        "volunteer": set(),
    }
    for who, seen in expected.items():
        assert set(item_names(api_as(getattr(cast, who)).get("/api/volunteers"))) == seen, who


@pytest.mark.parametrize("who", ["outsider", "volunteer"])
def test_detail_out_of_scope_is_404(cast, api_as, volunteer, who):
    response = api_as(getattr(cast, who)).get(f"/api/volunteers/{volunteer.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api_as(cast.county_admin).get("/api/volunteers/999999").status_code == 404


def test_filters(cast, api_as, volunteer):
    skill = Skill.objects.get(name="法律咨询")
    register(cast.county_admin, 1, name="李四", skill_ids=[skill.pk])
    register(cast.county_admin, 2, name="王五", region_code="320305005200")
    Volunteer.objects.filter(name="王五").update(star_level=2)
    client = api_as(cast.county_admin)

    def found(query: str) -> set[str]:
        return set(item_names(client.get(f"/api/volunteers?{query}")))

    assert found("q=张") == {"张三"}
    assert found(f"q={PHONE}") == {"张三"}
    assert found(f"skill={skill.pk}") == {"李四"}
    assert found("star=2") == {"王五"}
    assert found("region=320305005200") == {"王五"}
    assert found("status=pending") == set()
    assert found("status=bogus") == {"张三", "李四", "王五"}


def test_skills(cast, api_as):
    response = api_as(cast.volunteer).get("/api/volunteers/skills")
    assert response.status_code == 200
    assert [s["name"] for s in response.json()] == list(
        Skill.objects.values_list("name", flat=True)
    )


# ---------------------------------------------------------------- create


def test_create(cast, api_as, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    skill = Skill.objects.first()
    response = api_as(cast.station_admin).post(
        "/api/volunteers",
        payload(skill_ids=[skill.pk], availability=["weekend_day"]),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    volunteer = Volunteer.objects.get()
    assert body["id"] == volunteer.pk
    assert body["number"] == f"320305{volunteer.pk:08d}"
    assert (body["status"], body["gender"], body["phone_masked"]) == ("pending", "m", "137****5678")
    assert body["skills"] == [{"id": skill.pk, "name": skill.name}]
    assert "13712345678" not in response.content.decode()
    assert AuditEvent.objects.filter(verb="volunteer.register", actor=cast.station_admin).exists()


@pytest.mark.parametrize(
    ("who", "region", "status", "code"),
    [
        ("supervisor", VILLAGE, 403, "forbidden"),
        ("outsider", VILLAGE, 404, "not_found"),
        ("station_admin", "320305005200", 404, "not_found"),
        ("volunteer", VILLAGE, 404, "not_found"),
    ],
)
def test_create_denied(cast, api_as, who, region, status, code):
    client = api_as(getattr(cast, who))
    before = counts()
    response = client.post(
        "/api/volunteers", payload(region_code=region), content_type="application/json"
    )
    assert response.status_code == status
    assert response.json()["code"] == code
    assert counts() == before


def test_create_rule_violation_shape(cast, api_as, volunteer):
    client = api_as(cast.county_admin)
    before = counts()
    response = client.post(
        "/api/volunteers", payload(id_number=ID.lower()), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "rule_violation",
        "message": "该证件号码已经注册过志愿者。",
        "field": "id_number",
    }
    assert counts() == before


# ---------------------------------------------------------------- update


def test_patch(cast, api_as, volunteer):
    response = api_as(cast.station_admin).patch(
        f"/api/volunteers/{volunteer.pk}",
        {"name": "张三丰", "phone": "13712346666", "political_status": "cpc"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["phone_masked"], body["political_status"]) == (
        "张三丰",
        "137****6666",
        "cpc",
    )
    assert "13712346666" not in response.content.decode()
    event = AuditEvent.objects.get(verb="volunteer.update")
    assert event.changes["name"] == ["张三", "张三丰"]


@pytest.mark.parametrize(("who", "status"), [("supervisor", 403), ("outsider", 404)])
def test_patch_denied(cast, api_as, volunteer, who, status):
    client = api_as(getattr(cast, who))
    before = counts()
    response = client.patch(
        f"/api/volunteers/{volunteer.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert response.status_code == status
    assert counts() == before
    volunteer.refresh_from_db()
    assert volunteer.name == "张三"


def test_patch_duplicate_phone(cast, api_as, volunteer):
    other = register(cast.county_admin, 1)
    client = api_as(cast.county_admin)
    before = counts()
    response = client.patch(
        f"/api/volunteers/{other.pk}", {"phone": PHONE}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "phone"
    assert counts() == before


def test_list_queries_are_constant(cast, api_as):
    client = api_as(cast.county_admin)
    for n in range(5):
        register(cast.county_admin, n)
    client.get("/api/volunteers")
    with CaptureQueriesContext(connection) as five:
        assert client.get("/api/volunteers").json()["count"] == 5
    for n in range(5, 40):
        register(cast.county_admin, n)
    with CaptureQueriesContext(connection) as forty:
        assert client.get("/api/volunteers").json()["count"] == 40
    assert len(forty) == len(five)


@pytest.mark.parametrize(
    "query",
    [
        "star=-1",
        "region=３２",
        "region=abc",
        "q=" + "x" * 500,
    ],
)
def test_junk_filters_find_nothing_and_never_fail(cast, api_as, volunteer, query):
    response = api_as(cast.county_admin).get(f"/api/volunteers?{query}")
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("query", ["skill=99999999999999999999", "star=99999999999999999999"])
def test_numbers_past_64_bits_get_a_clear_error(cast, api_as, volunteer, query):
    response = api_as(cast.county_admin).get(f"/api/volunteers?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_range"


def test_volunteer_reads_and_edits_own_profile(cast, api_as, volunteer):
    from tests.volunteers.test_services import reg_input
    from wenming.volunteers import services

    own = services.volunteer_register(
        actor=cast.volunteer,
        data=reg_input(phone="13900000006", name="志愿者", id_number=id_number(seq="888")),
        self_service=True,
    )
    client = api_as(cast.volunteer)
    assert client.get(f"/api/volunteers/{own.pk}").json()["name"] == "志愿者"
    assert client.get(f"/api/volunteers/{volunteer.pk}").status_code == 404
    response = client.patch(
        f"/api/volunteers/{own.pk}", {"political_status": "cyl"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["political_status"] == "cyl"
    before = counts()
    response = client.patch(
        f"/api/volunteers/{own.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "不能修改这些信息：name"
    assert counts() == before
