"""The hourly housekeeping job: expired sessions and stale lockout records go."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from huey.contrib.djhuey import HUEY

from wenming.core.maintenance import PurgeResult, purge_expired_sessions_and_lockouts
from wenming.core.models import AuditEvent
from wenming.core.tasks import purge_sessions_and_lockouts

NOW = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)


def _session(expires: dt.datetime) -> str:
    store = SessionStore()
    store["x"] = 1
    store.set_expiry(expires)
    store.create()
    return store.session_key


def _attempt(at: dt.datetime, username: str) -> AccessAttempt:
    with time_machine.travel(at, tick=False):
        return AccessAttempt.objects.create(
            username=username,
            ip_address="10.0.0.1",
            user_agent="test",
            http_accept="*/*",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=5,
        )


@pytest.fixture
def stale_and_fresh(db):
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        expired = _session(NOW - dt.timedelta(seconds=1))
        live = _session(NOW + dt.timedelta(days=1))
    # The cool-off is 15 minutes (AXES_COOLOFF_MINUTES).
    old = _attempt(NOW - dt.timedelta(minutes=16), "a" * 64)
    fresh = _attempt(NOW - dt.timedelta(minutes=14), "b" * 64)
    return expired, live, old, fresh


def test_task_purges_expired_sessions_and_stale_lockouts(stale_and_fresh):
    _, live, _, fresh = stale_and_fresh
    with time_machine.travel(NOW, tick=False):
        purge_sessions_and_lockouts()  # enqueues; Huey is immediate in tests, so it runs
    assert set(Session.objects.values_list("session_key", flat=True)) == {live}
    assert set(AccessAttempt.objects.values_list("pk", flat=True)) == {fresh.pk}

    event = AuditEvent.objects.get(verb="maintenance.purge")
    assert event.actor_id is None
    assert event.actor_label == "系统"
    assert event.changes == {"sessions": 1, "lockouts": 1}


def test_second_run_finds_nothing_and_records_nothing(stale_and_fresh):
    with time_machine.travel(NOW, tick=False):
        purge_sessions_and_lockouts()
        # Periodic tasks keep no result; the undecorated function returns it.
        assert purge_sessions_and_lockouts.call_local() == PurgeResult(0, 0)
    assert AuditEvent.objects.filter(verb="maintenance.purge").count() == 1


def test_fresh_lockout_goes_once_the_cool_off_has_passed(stale_and_fresh):
    _, live, _, _ = stale_and_fresh
    with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
        assert purge_expired_sessions_and_lockouts() == PurgeResult(sessions=1, lockouts=2)
    assert not AccessAttempt.objects.exists()
    assert Session.objects.filter(session_key=live).exists()


def test_explicit_now_is_respected(stale_and_fresh):
    # Nothing had expired a day earlier.
    assert purge_expired_sessions_and_lockouts(now=NOW - dt.timedelta(days=1)) == PurgeResult(0, 0)
    assert Session.objects.count() == 2
    assert AccessAttempt.objects.count() == 2


def test_task_is_registered_as_hourly_periodic_job():
    periodic = {type(task).__name__: task for task in HUEY._registry.periodic_tasks}
    task = periodic["purge_sessions_and_lockouts"]
    assert task.validate_datetime(dt.datetime(2026, 5, 4, 10, 17))
    assert task.validate_datetime(dt.datetime(2026, 5, 4, 23, 17))
    assert not task.validate_datetime(dt.datetime(2026, 5, 4, 10, 18))
    assert not task.validate_datetime(dt.datetime(2026, 5, 4, 10, 0))
    # Only at minute 17 of each hour: 24 runs a day.
    day = [dt.datetime(2026, 5, 4) + dt.timedelta(minutes=m) for m in range(24 * 60)]
    assert sum(task.validate_datetime(t) for t in day) == 24
    assert HUEY.immediate
