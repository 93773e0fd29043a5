"""The records API: same services and scoping as the pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.records.helpers import START, signed_up_volunteer, state, token
from wenming.records.models import Attendance, ServiceRecord
from wenming.volunteers.models import Volunteer

NOW = START + dt.timedelta(minutes=10)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def post(client, path, data):
    return client.post(path, data, content_type="application/json")


def test_check_in_and_out_by_token(client, login, act, vol, clock):
    login(vol)
    r = post(client, f"/api/records/checkin/{act.pk}", {"token": token(act, NOW)})
    assert r.status_code == 200 and r.json()["checked_in_how"] == "qr"
    again = post(client, f"/api/records/checkin/{act.pk}", {"token": token(act, NOW)})
    assert again.json()["id"] == r.json()["id"]
    before = state()
    bad = post(client, f"/api/records/checkout/{act.pk}", {"token": "1.forged"})
    assert (bad.status_code, bad.json()["code"]) == (400, "token_invalid")
    assert state() == before
    clock.shift(dt.timedelta(minutes=50))
    out = post(
        client,
        f"/api/records/checkout/{act.pk}",
        {"token": token(act, NOW + dt.timedelta(minutes=50))},
    )
    assert out.status_code == 200 and out.json()["checked_out_at"]
    records = client.get("/api/records?mine=true").json()["items"]
    assert [(r["minutes"], r["status"]) for r in records] == [(50, "pending")]


def test_unauthenticated_is_401(client, act):
    assert (
        post(client, f"/api/records/checkin/{act.pk}", {"token": token(act, NOW)}).status_code
        == 401
    )
    assert not Attendance.objects.exists()


def _serve(client, login, act, user, minutes=60):
    login(user)
    post(client, f"/api/records/checkin/{act.pk}", {"token": token(act, NOW)})
    later = NOW + dt.timedelta(minutes=minutes)
    with time_machine.travel(later, tick=False):
        post(client, f"/api/records/checkout/{act.pk}", {"token": token(act, later)})
    return ServiceRecord.objects.get(volunteer__user=user)


def test_confirm_correct_and_corrections(client, login, cast, act, vol):
    record = _serve(client, login, act, vol)
    login(cast.supervisor)
    before = state()
    assert post(client, f"/api/records/{record.pk}/confirm", {}).status_code == 403
    assert state() == before
    login(cast.outsider)
    before = state()
    assert post(client, f"/api/records/{record.pk}/confirm", {}).status_code == 404
    assert client.get(f"/api/records/{record.pk}").status_code == 404
    assert state() == before
    login(cast.station_admin)
    r = post(client, f"/api/records/{record.pk}/confirm", {"evaluation": "好"})
    assert r.json()["status"] == "confirmed"
    login(vol)
    c = post(
        client, f"/api/records/{record.pk}/corrections", {"reason": "少了", "proposed_minutes": 80}
    )
    assert c.status_code == 201
    login(cast.station_admin)
    assert [x["id"] for x in client.get("/api/records/corrections").json()["items"]] == [
        c.json()["id"]
    ]
    a = post(
        client,
        f"/api/records/corrections/{c.json()['id']}/answer",
        {"accept": True, "answer": "属实"},
    )
    assert a.json()["status"] == "accepted"
    assert Volunteer.objects.get(user=vol).confirmed_minutes == 80
    replacement = a.json()["replacement_id"]
    r = post(client, f"/api/records/{replacement}/correct", {"minutes": 0, "reason": "核实未参加"})
    assert r.status_code == 200 and r.json() is None
    assert Volunteer.objects.get(user=vol).confirmed_minutes == 0


def test_manual_and_attendance_list(client, login, cast, act, vol):
    login(cast.station_admin)
    v = Volunteer.objects.get(user=vol)
    r = post(
        client,
        f"/api/records/activities/{act.pk}/manual",
        {"volunteer_id": v.pk, "action": "in", "reason": "补签"},
    )
    assert r.status_code == 200 and r.json()["checked_in_how"] == "manual"
    rows = client.get(f"/api/records/activities/{act.pk}/attendance").json()
    assert [x["volunteer_name"] for x in rows] == [v.name]
    r = post(
        client,
        f"/api/records/activities/{act.pk}/manual",
        {"volunteer_id": v.pk, "action": "out", "reason": ""},
    )
    assert r.status_code == 400
    login(cast.supervisor)
    assert client.get(f"/api/records/activities/{act.pk}/attendance").status_code == 403


def test_record_list_query_count_is_constant(client, login, cast, act):
    _serve(client, login, act, signed_up_volunteer(cast.county_admin, act, 1))
    login(cast.station_admin)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/records")
    for n in range(2, 6):
        _serve(client, login, act, signed_up_volunteer(cast.county_admin, act, n))
    login(cast.station_admin)
    with CaptureQueriesContext(connection) as many:
        items = client.get("/api/records").json()["items"]
    assert len(items) == 5
    assert len(many.captured_queries) == len(one.captured_queries)
