"""Concurrent writes on PostgreSQL (one connection per thread): the same volunteer
scanning from two phones at once gets one attendance; two organisers confirming or
correcting the same record at once add the hours once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from tests.records.helpers import START, activity, signed_up_volunteer, token
from wenming.accounts.models import User
from wenming.activities.models import Activity
from wenming.records import services
from wenming.records.models import Attendance, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
T0 = START + dt.timedelta(minutes=5)


def race(n: int, call: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    go = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            go.wait(timeout=30)
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


@pytest.mark.parametrize("n", [2, 8])
def test_simultaneous_check_ins_of_one_volunteer_make_one_attendance(cast, net, n):
    act = activity(cast.county_admin, net.station)
    user = signed_up_volunteer(cast.county_admin, act, 1)
    tok = token(act, T0)

    def check_in() -> int:
        actor = User.objects.get(pk=user.pk)
        target = Activity.objects.get(pk=act.pk)
        return services.attendance_check_in(actor=actor, activity=target, token=tok, now=T0).pk

    results, errors = race(n, check_in)
    assert errors == []
    assert Attendance.objects.count() == 1
    assert set(results) == {Attendance.objects.get().pk}


def test_simultaneous_check_outs_make_one_record(cast, net):
    act = activity(cast.county_admin, net.station)
    user = signed_up_volunteer(cast.county_admin, act, 1)
    services.attendance_check_in(actor=user, activity=act, token=token(act, T0), now=T0)
    out = T0 + dt.timedelta(hours=1)

    def check_out() -> int:
        actor = User.objects.get(pk=user.pk)
        target = Activity.objects.get(pk=act.pk)
        return services.attendance_check_out(
            actor=actor, activity=target, token=token(act, out), now=out
        ).pk

    _results, errors = race(6, check_out)
    assert errors == []
    assert ServiceRecord.objects.count() == 1


def test_simultaneous_confirms_and_corrections_count_once(cast, net):
    act = activity(cast.county_admin, net.station)
    user = signed_up_volunteer(cast.county_admin, act, 1)
    services.attendance_check_in(actor=user, activity=act, token=token(act, T0), now=T0)
    out = T0 + dt.timedelta(hours=1)
    services.attendance_check_out(actor=user, activity=act, token=token(act, out), now=out)
    record_id = ServiceRecord.objects.get().pk

    def confirm() -> None:
        actor = User.objects.get(pk=cast.station_admin.pk)
        record = ServiceRecord.objects.select_related("activity").get(pk=record_id)
        services.record_confirm(actor=actor, record=record)

    _r, errors = race(4, confirm)
    assert len(errors) == 3 and all("不能再确认" in str(e) for e in errors)
    assert Volunteer.objects.get(user=user).confirmed_minutes == 60

    def correct() -> None:
        actor = User.objects.get(pk=cast.station_admin.pk)
        record = ServiceRecord.objects.select_related("activity").get(pk=record_id)
        services.record_correct(actor=actor, record=record, minutes=30, reason="早退")

    _r, errors = race(4, correct)
    assert len(errors) == 3
    assert ServiceRecord.objects.filter(reverses_id=record_id).count() == 1
    assert Volunteer.objects.get(user=user).confirmed_minutes == 30
    total = sum(
        ServiceRecord.objects.filter(status=RecordStatus.CONFIRMED).values_list(
            "minutes", flat=True
        )
    )
    assert total == 30
