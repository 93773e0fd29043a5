"""The clock moves activities on: published → ongoing at the start time, ongoing →
finished at the end time, by a periodic task through the same transition service,
audited as the system. Drafts, submissions and cancelled activities are never touched;
running again changes nothing more."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, transaction
from huey.contrib.djhuey import HUEY

from tests.activities.helpers import make_activity
from wenming.activities import services
from wenming.activities.models import Activity, ActivityState
from wenming.activities.services import ClockResult, activities_advance_by_clock
from wenming.activities.tasks import advance_activities_by_clock
from wenming.core.errors import Forbidden
from wenming.core.models import AuditEvent

S = ActivityState
NOW = dt.datetime(2026, 5, 4, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
START = NOW + dt.timedelta(hours=1)
END = START + dt.timedelta(hours=3)


@pytest.fixture
def lineup(cast, net):
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        return {
            state: make_activity(
                cast.station_admin,
                net.station,
                state,
                title=f"{state}活动",
                starts_at=START,
                ends_at=END,
            )
            for state in (S.PUBLISHED, S.DRAFT, S.SUBMITTED, S.CANCELLED)
        }


def _states(lineup) -> dict[str, str]:
    fresh = Activity.objects.in_bulk([a.pk for a in lineup.values()])
    return {key: fresh[a.pk].state for key, a in lineup.items()}


def _run_task_at(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False):
        advance_activities_by_clock()  # enqueues; Huey is immediate in tests, so it runs


UNTOUCHED = {S.DRAFT: S.DRAFT, S.SUBMITTED: S.SUBMITTED, S.CANCELLED: S.CANCELLED}


def test_before_the_start_nothing_moves(lineup):
    _run_task_at(START - dt.timedelta(seconds=1))
    assert _states(lineup) == {S.PUBLISHED: S.PUBLISHED, **UNTOUCHED}
    assert not AuditEvent.objects.filter(verb__in=["activity.start", "activity.finish"]).exists()


def test_after_the_start_ongoing_after_the_end_finished(lineup):
    _run_task_at(START)
    assert _states(lineup) == {S.PUBLISHED: S.ONGOING, **UNTOUCHED}
    event = AuditEvent.objects.get(verb="activity.start")
    assert event.actor_id is None and event.actor_label == "系统"
    assert event.target_id == str(lineup[S.PUBLISHED].pk)
    assert event.changes == {"state": [S.PUBLISHED, S.ONGOING]}
    assert event.note == "开始时间已到，自动开始。"
    activity = Activity.objects.get(pk=lineup[S.PUBLISHED].pk)
    assert activity.state_changed_at == START

    _run_task_at(END - dt.timedelta(minutes=1))
    assert _states(lineup)[S.PUBLISHED] == S.ONGOING

    _run_task_at(END + dt.timedelta(minutes=2))
    assert _states(lineup) == {S.PUBLISHED: S.FINISHED, **UNTOUCHED}
    event = AuditEvent.objects.get(verb="activity.finish")
    assert event.actor_id is None and event.note == "结束时间已到，自动结束。"
    assert event.changes == {"state": [S.ONGOING, S.FINISHED]}


def test_a_run_after_the_end_takes_a_published_activity_all_the_way(lineup):
    with time_machine.travel(END, tick=False):
        assert advance_activities_by_clock.call_local() == ClockResult(started=1, finished=1)
    assert _states(lineup) == {S.PUBLISHED: S.FINISHED, **UNTOUCHED}
    verbs = list(
        AuditEvent.objects.filter(target_id=str(lineup[S.PUBLISHED].pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs[-2:] == ["activity.start", "activity.finish"]


def test_running_twice_changes_nothing_more(lineup):
    _run_task_at(END + dt.timedelta(hours=1))
    events = AuditEvent.objects.count()
    updated = Activity.objects.get(pk=lineup[S.PUBLISHED].pk).updated_at
    with time_machine.travel(END + dt.timedelta(hours=1, minutes=5), tick=False):
        assert activities_advance_by_clock() == ClockResult(started=0, finished=0)
    assert AuditEvent.objects.count() == events
    assert Activity.objects.get(pk=lineup[S.PUBLISHED].pk).updated_at == updated


def test_an_activity_started_by_hand_is_finished_by_the_clock(cast, lineup):
    with time_machine.travel(START - dt.timedelta(minutes=10), tick=False):
        services.activity_transition(
            action="start", actor=cast.station_admin, activity=lineup[S.PUBLISHED]
        )
    assert activities_advance_by_clock(now=START) == ClockResult(started=0, finished=0)
    assert activities_advance_by_clock(now=END) == ClockResult(started=0, finished=1)


@pytest.mark.parametrize("action", ["publish", "cancel", "submit", "approve", "reject"])
def test_the_system_may_only_start_and_finish(lineup, action):
    events = AuditEvent.objects.count()
    target = lineup[S.DRAFT] if action in {"publish", "submit"} else lineup[S.PUBLISHED]
    if action in {"approve", "reject"}:
        target = lineup[S.SUBMITTED]
    with pytest.raises(Forbidden):
        services.activity_transition(actor=None, activity=target, action=action, reason="x")
    assert _states(lineup) == {S.PUBLISHED: S.PUBLISHED, **UNTOUCHED}
    assert AuditEvent.objects.count() == events


def test_task_runs_every_five_minutes():
    periodic = {type(task).__name__: task for task in HUEY._registry.periodic_tasks}
    task = periodic["advance_activities_by_clock"]
    assert task.validate_datetime(dt.datetime(2026, 5, 4, 10, 0))
    assert task.validate_datetime(dt.datetime(2026, 5, 4, 10, 55))
    assert not task.validate_datetime(dt.datetime(2026, 5, 4, 10, 3))
    day = [dt.datetime(2026, 5, 4) + dt.timedelta(minutes=m) for m in range(24 * 60)]
    assert sum(task.validate_datetime(t) for t in day) == 288


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_locked_elsewhere_is_skipped_not_waited_for(cast, net):
    activity = make_activity(
        cast.station_admin, net.station, S.PUBLISHED, starts_at=START, ends_at=END
    )
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Activity.objects.select_for_update().get(pk=activity.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        assert activities_advance_by_clock(now=START) == ClockResult(started=0, finished=0)
    finally:
        release.set()
        holder.join()
    assert activities_advance_by_clock(now=START) == ClockResult(started=1, finished=0)
    assert Activity.objects.get(pk=activity.pk).state == S.ONGOING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_move_each_activity_once(cast, net):
    ids = [
        make_activity(
            cast.station_admin,
            net.station,
            S.PUBLISHED,
            title=f"并发{n}",
            starts_at=START,
            ends_at=END,
        ).pk
        for n in range(20)
    ]
    results: list[ClockResult] = []
    errors: list[BaseException] = []
    go = threading.Event()

    def run() -> None:
        go.wait(timeout=10)
        try:
            results.append(activities_advance_by_clock(now=START))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.started for r in results) == len(ids)
    assert set(Activity.objects.filter(pk__in=ids).values_list("state", flat=True)) == {S.ONGOING}
    assert AuditEvent.objects.filter(verb="activity.start").count() == len(ids)
