"""NUL and the other C0 control characters are refused at the door (400 in the shape
the caller expects), anywhere in a request, for anyone; tab, LF and CR pass."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from wenming.core.models import AuditEvent
from wenming.volunteers.models import Volunteer

ERROR = {
    "code": "control_characters",
    "message": "提交的内容含有不允许的控制字符（如 NUL），请删除后重试。",
    "field": None,
}


def _json(client: Client, method: str, url: str, body: object):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        # Anonymous: the public order API, the private order page and API with a NUL in
        # the path, an Open311 request id, the household report link.
        ("post", "/api/demands/orders/public", {"details": "坏\u0000", "address": "x"}),
        ("post", "/api/demands/orders/public", {"address": "村\u001d口"}),
        ("get", "/api/demands/track/AB%00C/tok", None),
        ("post", "/api/activities", {"title": "标题\u0000"}),
        ("patch", "/api/volunteers/1", {"name": "坏\u001d名"}),
        ("post", "/api/demands/orders", {"details": ["列表里\u0000"]}),
        ("post", "/api/demands/orders", {"键\u0000": 1}),
    ],
)
def test_api_refuses_control_characters_in_json_and_path(client, cast, method, url, body):
    before = AuditEvent.objects.count()
    response = _json(client, method, url, body) if body is not None else client.get(url)
    assert response.status_code == 400
    assert response.json() == ERROR
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "url",
    [
        "/demands/o/AB%00C/token/",
        "/households/report/ab%00cd/",
        "/volunteers/register/?name=%1d",
    ],
)
def test_pages_refuse_control_characters_in_path_and_query(client, net, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "不允许的控制字符" in response.content.decode()


def test_open311_answers_in_its_own_error_shape(client, net):
    response = client.get("/open311/v2/requests/AB%00C.json")
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": ERROR["message"]}]


@pytest.mark.parametrize("value", ["坏\x00名", "坏\x1d名", "坏\x08名", "坏\x0b名"])
def test_forms_refuse_control_characters(client, net, value):
    before = (Volunteer.objects.count(), AuditEvent.objects.count())
    response = client.post("/volunteers/register/", {"name": value, "phone": "13712340001"})
    assert response.status_code == 400
    assert "不允许的控制字符" in response.content.decode()
    assert (Volunteer.objects.count(), AuditEvent.objects.count()) == before


def test_multipart_field_names_and_values_are_checked(client, net):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("ok.jpg", b"\x00\x01binary content is fine", "image/jpeg")
    response = client.post("/demands/order/", {"details": "a\x00", "photo": upload})
    assert response.status_code == 400
    # Binary file content alone is not refused.
    upload = SimpleUploadedFile("ok.jpg", b"\x00\x01binary", "image/jpeg")
    response = client.post("/demands/order/", {"details": "ok", "photo": upload})
    assert response.status_code != 400 or "不允许的控制字符" not in response.content.decode()


def test_escaped_backslash_before_u0000_is_ordinary_text(client, cast):
    """`\\\\u0000` in JSON is a backslash and the letters u0000: no control character."""
    body = '{"details": "C:\\\\u0000 path"}'
    response = client.post("/api/demands/orders/public", body, content_type="application/json")
    assert response.status_code != 400 or response.json()["code"] != "control_characters"


def test_tab_newline_and_cr_pass(client, cast):
    response = _json(client, "post", "/api/demands/orders/public", {"details": "一\t二\r\n三"})
    assert response.status_code != 400 or response.json()["code"] != "control_characters"


BIG = "30561591944650858430464"
RANGE_ERROR = {
    "code": "out_of_range",
    "message": "提交的数字或日期超出允许的范围（日期须在 1900—2999 年之间）。",
    "field": None,
}


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("county_admin", f"/api/teams?unit={BIG}"),
        ("team_leader", f"/api/teams?unit={BIG}"),
        ("county_admin", f"/api/volunteers?skill=-{BIG}"),
        ("county_admin", f"/api/households/{BIG}"),
    ],
)
def test_api_refuses_out_of_range_integers(client, cast, who, url):
    client.force_login(getattr(cast, who))
    response = client.get(url)
    assert response.status_code == 400
    assert response.json() == RANGE_ERROR


def test_pages_refuse_out_of_range_integers(client, cast):
    client.force_login(cast.team_leader)
    response = client.get(f"/teams/?unit={BIG}")
    assert response.status_code == 400
    assert "超出允许的范围" in response.content.decode()


def test_patch_with_a_huge_skill_id_is_refused_and_changes_nothing(client, cast):
    from tests.volunteers.test_services import register

    v = register(cast.county_admin, 1)
    before = (AuditEvent.objects.count(), list(v.skills.values_list("pk", flat=True)))
    client.force_login(cast.county_admin)
    response = _json(client, "patch", f"/api/volunteers/{v.pk}", {"skill_ids": [int(BIG)]})
    assert response.status_code == 400
    assert response.json() == RANGE_ERROR
    assert (AuditEvent.objects.count(), list(v.skills.values_list("pk", flat=True))) == before


def test_registration_with_a_huge_skill_id_is_refused(client, net):
    before = (Volunteer.objects.count(), AuditEvent.objects.count())
    response = client.post(
        "/volunteers/register/", {"name": "张三", "skill_ids": "99999999999999999999"}
    )
    assert response.status_code == 400
    assert (Volunteer.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "3000-01-01T00:00:00Z", "0001-01-01"])
def test_dates_out_of_range_are_refused(client, cast, when):
    from wenming.activities.models import Activity

    client.force_login(cast.county_admin)
    response = _json(client, "post", "/api/activities", {"title": "讲座", "starts_at": when})
    assert response.status_code == 400
    assert response.json() == RANGE_ERROR
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    "value", ["9223372036854775807", "13712340001", "2026-12-08T09:00", "1900-01-01"]
)
def test_values_in_range_pass(client, cast, value):
    client.force_login(cast.county_admin)
    response = client.get("/api/volunteers", {"search": value})
    assert response.status_code == 200


def test_digits_in_a_json_string_are_text(client, cast):
    """A JSON string of digits (a phone number, an ID number) is never read as a number."""
    response = _json(client, "post", "/api/demands/orders/public", {"phone": "9" * 30})
    assert response.status_code != 400 or response.json()["code"] != "out_of_range"


# ---------------------------------------------------------------- free text has a limit


def test_an_activity_description_has_a_limit(cast, net):
    from tests.activities.helpers import activity_input
    from wenming.activities import services
    from wenming.activities.models import Activity
    from wenming.core.errors import RuleViolation

    before = (Activity.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuleViolation) as exc:
        services.activity_create(
            actor=cast.county_admin, data=activity_input(net.center, description="长" * 200_000)
        )
    assert exc.value.field == "description"
    assert exc.value.message == "活动内容最多 5000 个字（现在 200000 个）。"
    assert (Activity.objects.count(), AuditEvent.objects.count()) == before
    activity = services.activity_create(
        actor=cast.county_admin, data=activity_input(net.center, description="长" * 5000)
    )
    assert len(activity.description) == 5000


def test_a_team_description_has_a_limit(cast, net):
    from wenming.core.errors import RuleViolation
    from wenming.volunteers import teams
    from wenming.volunteers.models import Team, TeamType

    kind = TeamType.objects.first() or TeamType.objects.create(name="综合")
    with pytest.raises(RuleViolation):
        teams.team_create(
            actor=cast.county_admin,
            name="队",
            team_type_id=kind.pk,
            unit_id=net.center.pk,
            description="x" * 5001,
        )
    assert Team.objects.count() == 0


def test_json_nested_past_the_stack_is_refused_not_a_server_error(client, cast):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/demands/orders/public", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"
