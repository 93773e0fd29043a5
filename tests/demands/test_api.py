"""The demands API: public menu, board, ordering and private-link steps; staff list,
detail, candidates and actions; scoping, error shape and query counts."""

from __future__ import annotations

import pytest

from tests.conftest import session_queries
from tests.demands.helpers import RESIDENT_PHONE, menu_item, submit, team_with_leader
from wenming.demands.models import Order, OrderState
from wenming.volunteers.models import Volunteer

S = OrderState
J = "application/json"


@pytest.fixture
def item(cast, net):
    return menu_item(cast.station_admin, net.station)


@pytest.fixture
def team(cast, net, item):
    team, leader = team_with_leader(cast.station_admin, net.station, 1, "马庄文艺队")
    item.teams.add(team)
    team.leader = leader
    return team


def _payload(item, **overrides):
    data = {
        "name": "王大爷",
        "phone": RESIDENT_PHONE,
        "region_code": "320305005204",
        "menu_item_code": item.code,
        "kind": "menu",
    }
    data.update(overrides)
    return data


def test_public_menu_and_order_and_track(client, item):
    menu = client.get("/api/demands/menu", {"village": "320305005204"}).json()
    assert [m["code"] for m in menu] == [item.code]
    response = client.post("/api/demands/orders/public", _payload(item), content_type=J)
    assert response.status_code == 201
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert body["number"] == order.number
    assert body["private_url"] == f"/demands/o/{order.number}/{body['link_token']}/"
    tracked = client.get(f"/api/demands/track/{order.number}/{body['link_token']}").json()
    assert tracked["state"] == "submitted" and tracked["events"][0]["action"] == "submit"
    assert "requester_phone_masked" not in tracked
    bad = client.get(f"/api/demands/track/{order.number}/{'x' * 43}")
    assert (bad.status_code, bad.json()["code"]) == (404, "not_found")
    remind = client.post(f"/api/demands/track/{order.number}/{body['link_token']}/remind")
    assert remind.status_code == 200


def test_public_order_errors_have_the_error_shape(client, item):
    response = client.post("/api/demands/orders/public", _payload(item, phone="1"), content_type=J)
    assert response.status_code == 400
    assert response.json()["field"] == "phone" and response.json()["message"]


def test_staff_flow_through_the_api(client, login, cast, item, team):
    order = submit(item)
    c = login(cast.station_admin)
    assert (
        c.post(f"/api/demands/orders/{order.pk}/actions/accept", {}, content_type=J).json()["state"]
        == "accepted"
    )
    cands = c.get(f"/api/demands/orders/{order.pk}/candidates").json()
    assert cands[0]["name"] == "马庄文艺队"
    assert {f["key"] for f in cands[0]["factors"]} == {
        "proximity", "category", "skills", "load", "rating", "response",
    }  # fmt: skip
    body = c.post(
        f"/api/demands/orders/{order.pk}/actions/dispatch", {"team_id": team.pk}, content_type=J
    ).json()
    assert body["state"] == "dispatched" and body["assigned_team_id"] == team.pk
    c = login(team.leader)
    assert [o["id"] for o in c.get("/api/demands/tasks").json()["dispatched"]] == [order.pk]
    c.post(f"/api/demands/orders/{order.pk}/actions/take", {}, content_type=J)
    leader = Volunteer.objects.get(user=team.leader)
    body = c.post(
        f"/api/demands/orders/{order.pk}/actions/complete",
        {"note": "好", "participants": [{"volunteer_id": leader.pk, "minutes": 40}]},
        content_type=J,
    ).json()
    assert body["state"] == "completed"
    rated = client.post(
        f"/api/demands/track/{order.number}/{order.link_token}/rate",
        {"stars": 5, "comment": "谢谢"},
        content_type=J,
    ).json()
    assert rated["state"] == "rated" and rated["rating"] == 5
    board = client.get("/api/demands/board").json()["items"]
    assert board[0]["title"] == "上门理发" and "number" not in board[0]


def test_illegal_action_is_400_and_changes_nothing(client, login, cast, item):
    order = submit(item)
    c = login(cast.station_admin)
    response = c.post(f"/api/demands/orders/{order.pk}/actions/take", {}, content_type=J)
    assert (response.status_code, response.json()["code"]) == (400, "bad_state")
    assert Order.objects.get(pk=order.pk).state == S.SUBMITTED


def test_scoping_outsider_404_supervisor_403(client, login, cast, item):
    order = submit(item)
    c = login(cast.outsider)
    assert c.get(f"/api/demands/orders/{order.pk}").status_code == 404
    assert c.get("/api/demands/orders").json()["count"] == 0
    c = login(cast.supervisor)
    assert c.get(f"/api/demands/orders/{order.pk}").status_code == 200
    response = c.post(f"/api/demands/orders/{order.pk}/actions/accept", {}, content_type=J)
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).state == S.SUBMITTED
    assert client.logout() is None
    assert client.get("/api/demands/orders").status_code == 401


def test_staff_list_query_count_is_constant(client, login, cast, item, django_assert_num_queries):
    for n in range(3):
        submit(item, phone=f"1390000{n:04d}")
    c = login(cast.station_admin)
    c.get("/api/demands/orders")
    with django_assert_num_queries(4 + session_queries()):
        assert c.get("/api/demands/orders").json()["count"] == 3
    for n in range(3, 6):
        submit(item, phone=f"1390000{n:04d}")
    with django_assert_num_queries(4 + session_queries()):
        assert c.get("/api/demands/orders").json()["count"] == 6


def test_staff_order_and_menu_through_the_api(client, login, cast, net, item):
    c = login(cast.station_admin)
    response = c.post("/api/demands/orders", {**_payload(item), "channel": "phone"}, content_type=J)
    assert response.status_code == 201 and response.json()["link_token"]
    created = c.post(
        "/api/demands/menu",
        {"unit_id": net.station.pk, "title": "代写家书", "work_item": "values"},
        content_type=J,
    )
    assert created.status_code == 201 and created.json()["code"].startswith("S")
    assert (
        login(cast.supervisor)
        .post(
            "/api/demands/menu",
            {"unit_id": net.station.pk, "title": "x", "work_item": "values"},
            content_type=J,
        )
        .status_code
        == 403
    )
    assert login(cast.county_admin).get("/api/demands/figures").json()[0]["total"] == 1
