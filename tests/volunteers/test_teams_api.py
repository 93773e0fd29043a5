"""The teams API: the same rules and scope as the pages, masked numbers only, one
error shape, refusals that change nothing, and constant query counts on the list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import PASSWORD
from tests.volunteers.teams_cast import make_team, state, theory, who
from tests.volunteers.test_services import register
from wenming.core.models import AuditEvent
from wenming.volunteers import teams
from wenming.volunteers.models import Membership, MembershipRole, MembershipStatus, Team

LIST_KEYS = {
    "id",
    "name",
    "team_type_id",
    "team_type_name",
    "unit_id",
    "unit_name",
    "region_code",
    "region_name",
    "is_active",
    "member_count",
    "confirmed_hours",
}
DETAIL_KEYS = LIST_KEYS | {
    "description",
    "created_at",
    "members",
    "pending",
    "my_membership",
    "can_manage",
    "can_decide",
    "can_join",
}


@pytest.fixture
def api_as(client):
    def do(user):
        client.cookies.clear()
        response = client.post("/accounts/login/", {"phone": user.phone, "password": PASSWORD})
        assert response.status_code == 302
        return client

    return do


def post(client, path: str, data: dict | None = None):
    return client.post(path, data or {}, content_type="application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/teams"),
        ("get", "/api/teams/types"),
        ("get", "/api/teams/{id}"),
        ("post", "/api/teams"),
        ("patch", "/api/teams/{id}"),
        ("post", "/api/teams/{id}/join"),
        ("post", "/api/teams/{id}/leave"),
        ("post", "/api/teams/memberships/{m}/approve"),
    ],
)
def test_anonymous_gets_401(client, crew, method, path):
    before = state()
    response = getattr(client, method)(
        path.format(id=crew.team.pk, m=crew.request.pk), {}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert state() == before


def test_list_and_detail_for_staff(cast, crew, api_as):
    client = api_as(cast.county_admin)
    listing = client.get("/api/teams").json()
    assert listing["count"] == 1
    item = listing["items"][0]
    assert set(item) == LIST_KEYS
    assert (item["name"], item["member_count"], item["region_code"]) == (
        "马庄宣讲队",
        2,
        "320305005204",
    )
    detail = client.get(f"/api/teams/{crew.team.pk}").json()
    assert set(detail) == DETAIL_KEYS
    members = {m["name"]: m for m in detail["members"]}
    assert set(members) == {crew.leader_v.name, crew.member_v.name}
    assert members[crew.member_v.name]["phone_masked"] == crew.member_v.phone_masked
    assert [p["name"] for p in detail["pending"]] == [crew.applicant_v.name]
    assert (detail["can_manage"], detail["can_decide"], detail["can_join"]) == (True, True, False)
    assert crew.member.phone not in client.get(f"/api/teams/{crew.team.pk}").content.decode()


def test_detail_for_a_member_and_a_stranger(crew, api_as):
    detail = api_as(crew.member).get(f"/api/teams/{crew.team.pk}").json()
    assert {m["name"] for m in detail["members"]} == {crew.leader_v.name, crew.member_v.name}
    assert all(m["phone_masked"] is None and m["number"] is None for m in detail["members"])
    assert detail["pending"] is None
    assert detail["my_membership"]["status"] == "active"
    detail = api_as(crew.stranger).get(f"/api/teams/{crew.team.pk}").json()
    assert (detail["members"], detail["pending"], detail["can_join"]) == (None, None, True)
    body = api_as(crew.stranger).get(f"/api/teams/{crew.team.pk}").content.decode()
    assert crew.member_v.name not in body and crew.leader_v.name not in body


@pytest.mark.parametrize("name", ["far", "outsider", "resident"])
def test_detail_outside_is_404(cast, crew, api_as, name):
    response = api_as(who(cast, crew, name)).get(f"/api/teams/{crew.team.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_filters(cast, net, crew, api_as):
    make_team(cast.county_admin, net.other_institute, "青山泉应急队")
    client = api_as(cast.county_admin)

    def names(query: str) -> set[str]:
        return {i["name"] for i in client.get(f"/api/teams?{query}").json()["items"]}

    assert names("q=应急") == {"青山泉应急队"}
    assert names("region=320305005") == {"马庄宣讲队"}
    assert names(f"unit={net.station.pk}") == {"马庄宣讲队"}
    assert names(f"type={theory().pk}") == {"马庄宣讲队", "青山泉应急队"}
    assert names("region=３２") == {"马庄宣讲队", "青山泉应急队"}  # junk dropped
    assert len(client.get("/api/teams/types").json()) == 10


def test_list_queries_are_constant(cast, net, api_as):
    client = api_as(cast.county_admin)
    units = [net.station, net.station2, net.institute, net.other_institute]

    def add(n: int) -> None:
        team = make_team(cast.county_admin, units[n % 4], f"队{n:02d}")
        v = register(cast.county_admin, n)
        teams.leader_appoint(actor=cast.county_admin, team=team, volunteer=v)

    for n in range(3):
        add(n)
    client.get("/api/teams")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/teams").json()["count"] == 3
    for n in range(3, 30):
        add(n)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/teams").json()["count"] == 30
    assert len(many) == len(few)


# ---------------------------------------------------------------- writes


def test_create_and_update(cast, net, api_as):
    client = api_as(cast.station_admin)
    response = post(
        client,
        "/api/teams",
        {"name": "马庄助老队", "team_type_id": theory().pk, "unit_id": net.station.pk},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["region_code"], body["members"]) == (
        "马庄助老队",
        "320305005204",
        [],
    )
    response = client.patch(
        f"/api/teams/{body['id']}",
        {"description": "每周六", "is_active": False},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["description"], response.json()["is_active"]) == ("每周六", False)
    assert AuditEvent.objects.filter(verb__in=["team.create", "team.update"]).count() == 2


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"name": ""}, 400, "rule_violation", "name"),
        ({"name": "马庄宣讲队"}, 400, "rule_violation", "name"),
        ({"unit_id": 999_999}, 400, "rule_violation", "unit"),
    ],
)
def test_create_rules(cast, net, crew, api_as, payload, status, code, field):
    client = api_as(cast.county_admin)
    data = {"name": "新队", "team_type_id": theory().pk, "unit_id": net.station.pk, **payload}
    before = state()
    response = post(client, "/api/teams", data)
    assert response.status_code == status
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert state() == before


@pytest.mark.parametrize(
    ("name", "status"),
    [("supervisor", 403), ("member", 404), ("station_admin", 404), ("outsider", 404)],
)
def test_create_refused(cast, net, crew, api_as, name, status):
    client = api_as(who(cast, crew, name))
    before = state()
    response = post(
        client,
        "/api/teams",
        {"name": "越权队", "team_type_id": theory().pk, "unit_id": net.station2.pk},
    )
    assert response.status_code == status
    assert state() == before


@pytest.mark.parametrize(
    ("name", "status"),
    [("supervisor", 403), ("leader", 403), ("stranger", 403), ("far", 404), ("outsider", 404)],
)
def test_update_refused(cast, crew, api_as, name, status):
    client = api_as(who(cast, crew, name))
    before = state()
    response = client.patch(
        f"/api/teams/{crew.team.pk}", {"name": "改名"}, content_type="application/json"
    )
    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "field"}
    assert state() == before


def test_join_approve_leave_round_trip(crew, api_as):
    client = api_as(crew.stranger)
    response = post(client, f"/api/teams/{crew.team.pk}/join")
    assert response.status_code == 201
    m = response.json()
    assert (m["status"], m["role"]) == ("pending", "member")
    before = state()
    again = post(client, f"/api/teams/{crew.team.pk}/join")
    assert again.status_code == 400
    assert again.json()["message"] == "您已申请加入该服务队，或已经是队员。"
    assert state() == before

    response = post(api_as(crew.leader), f"/api/teams/memberships/{m['id']}/approve")
    assert response.status_code == 200
    assert response.json()["status"] == "active"

    response = post(api_as(crew.stranger), f"/api/teams/{crew.team.pk}/leave", {"reason": "忙"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["reason"]) == ("left", "忙")
    response = post(api_as(crew.stranger), f"/api/teams/{crew.team.pk}/leave")
    assert response.status_code == 400


def test_reject_and_remove(crew, api_as):
    leader = api_as(crew.leader)
    response = post(leader, f"/api/teams/memberships/{crew.request.pk}/reject", {"reason": "满"})
    assert response.json()["status"] == "rejected"
    target = Membership.objects.get(volunteer=crew.member_v)
    before = state()
    response = post(leader, f"/api/teams/memberships/{target.pk}/remove", {"reason": ""})
    assert response.status_code == 400
    assert response.json()["field"] == "reason"
    assert state() == before
    response = post(leader, f"/api/teams/memberships/{target.pk}/remove", {"reason": "缺席"})
    assert response.status_code == 200
    assert response.json()["status"] == "removed"


@pytest.mark.parametrize(
    ("name", "status"),
    [("supervisor", 403), ("member", 403), ("stranger", 403), ("far", 404), ("outsider", 404)],
)
def test_decisions_refused(cast, crew, api_as, name, status):
    client = api_as(who(cast, crew, name))
    target = Membership.objects.get(volunteer=crew.member_v)
    before = state()
    for path, data in [
        (f"/api/teams/memberships/{crew.request.pk}/approve", {}),
        (f"/api/teams/memberships/{crew.request.pk}/reject", {}),
        (f"/api/teams/memberships/{target.pk}/remove", {"reason": "x"}),
        (f"/api/teams/memberships/{target.pk}/dismiss-leader", {}),
    ]:
        response = post(client, path, data)
        assert response.status_code == status, path
        assert response.json()["code"] == ("forbidden" if status == 403 else "not_found")
    assert state() == before


def test_leaders(cast, crew, api_as):
    client = api_as(cast.county_admin)
    response = post(
        client, f"/api/teams/{crew.team.pk}/leaders", {"volunteer_id": crew.stranger_v.pk}
    )
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["status"]) == ("leader", "active")
    m = Membership.objects.get(volunteer=crew.stranger_v)
    response = post(client, f"/api/teams/memberships/{m.pk}/dismiss-leader", {"reason": "换届"})
    assert response.json()["role"] == "member"
    m.refresh_from_db()
    assert (m.role, m.status) == (MembershipRole.MEMBER, MembershipStatus.ACTIVE)
    # A leader does not appoint leaders.
    leader = api_as(crew.leader)
    before = state()
    response = post(leader, f"/api/teams/{crew.team.pk}/leaders", {"volunteer_id": crew.far_v.pk})
    assert response.status_code == 404  # the volunteer is outside the leader's (empty) scope
    assert state() == before
    assert Team.objects.count() == 1
