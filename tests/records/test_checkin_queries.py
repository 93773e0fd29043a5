"""The QR check-in request is a big event's burst: its number of queries is fixed and
small (it was ten round trips, with BEGIN, savepoints and COMMIT)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.records.helpers import START, token
from wenming.core.models import AuditEvent
from wenming.records.models import Attendance

NOW = START + dt.timedelta(minutes=10)
CSRF = "c" * 32


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _check_in(client, act):
    return client.post(
        f"/api/records/checkin/{act.pk}",
        {"token": token(act, NOW)},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=CSRF,
    )


def test_one_qr_check_in_request_costs_a_fixed_number_of_queries(client, settings, act, vol):
    client.force_login(vol)
    client.cookies["csrftoken"] = CSRF
    # The session comes from the cache when sessions are cached (Redis), else one query.
    session = 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1
    with CaptureQueriesContext(connection) as first:
        response = _check_in(client, act)
    assert response.status_code == 200, response.content
    if connection.vendor == "postgresql":
        # The user; the activity with the volunteer's place; the attendance and its
        # audit event in one statement.
        assert len(first) == session + 3, [q["sql"][:60] for q in first]
    else:
        # SQLite: the same reads, then the savepoint-guarded insert and the audit insert
        # inside the check-in's atomic block (itself a savepoint in a test).
        assert len(first) == session + 8, [q["sql"][:60] for q in first]
    attendance = Attendance.objects.get()
    assert response.json()["id"] == attendance.pk
    assert (attendance.volunteer.user_id, attendance.checked_in_how) == (vol.pk, "qr")
    event = AuditEvent.objects.get(verb="attendance.check_in")
    assert (event.actor_id, event.target_type, event.target_id) == (
        vol.pk,
        "records.attendance",
        str(attendance.pk),
    )
    assert event.target_label == str(attendance)
    assert (event.region_code, event.ip) == (act.region_id, "127.0.0.1")
    assert event.changes == {"checked_in_at": [None, NOW.isoformat()]}

    # A replay inserts nothing, audits nothing, and answers the same attendance.
    with CaptureQueriesContext(connection) as replay:
        again = _check_in(client, act)
    assert again.json()["id"] == attendance.pk
    assert len(replay) <= len(first) + 1
    assert Attendance.objects.count() == 1
    assert AuditEvent.objects.filter(verb="attendance.check_in").count() == 1
