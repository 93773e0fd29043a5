"""Hour computation edge cases: no check-out, check-out before check-in, clamping to
the window (travel excluded), the per-day cap, and overnight activities split per day."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tests.records.helpers import START, activity, signed_up_volunteer, token
from wenming.core.models import AuditEvent
from wenming.records import services
from wenming.records.hours import service_minutes
from wenming.records.models import ServiceRecord

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Beijing wall-clock time in November 2026, as UTC."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def minutes(cin, cout, ws, we, cap=480):
    return service_minutes(
        checked_in_at=cin, checked_out_at=cout, window_start=ws, window_end=we, cap_per_day=cap
    )


@pytest.mark.parametrize(
    ("cin", "cout", "expected"),
    [
        (at(28, 9), at(28, 12), 180),  # the whole window
        (at(28, 8), at(28, 13), 180),  # travel before and after is clamped off
        (at(28, 10), at(28, 11, 30), 90),
        (at(28, 10), None, 0),  # no check-out
        (at(28, 11), at(28, 10), 0),  # check-out before check-in
        (at(28, 10), at(28, 10), 0),
        (at(28, 12, 30), at(28, 13), 0),  # entirely after the window
        (at(28, 9), at(28, 9, 0) + dt.timedelta(seconds=119), 1),  # whole minutes, floored
    ],
)
def test_minutes_in_a_morning_window(cin, cout, expected):
    assert minutes(cin, cout, at(28, 9), at(28, 12)) == expected


def test_daily_cap():
    assert minutes(at(28, 8), at(28, 20), at(28, 8), at(28, 20)) == 480
    assert minutes(at(28, 8), at(28, 20), at(28, 8), at(28, 20), cap=600) == 600


def test_overnight_is_split_per_local_day():
    # 20:00 → 06:00 Beijing time: 4 h on the first day, 6 h on the second.
    assert minutes(at(28, 20), at(29, 6), at(28, 20), at(29, 6), cap=300) == 240 + 300
    assert minutes(at(28, 20), at(29, 6), at(28, 20), at(29, 6)) == 600
    # Three days of a 72-hour camp: capped at 8 h a day.
    assert minutes(at(27, 0), at(30, 0), at(27, 0), at(30, 0)) == 3 * 480


def test_midnight_in_utc_is_not_a_day_boundary():
    # 07:00–09:00 Beijing is 23:00–01:00 UTC: one local day, not split.
    assert minutes(at(28, 7), at(28, 9), at(28, 7), at(28, 9), cap=60) == 60


def test_overnight_activity_end_to_end_with_time_travel(cast, net, settings):
    settings.SERVICE_MINUTES_PER_DAY = 300
    act = activity(cast.county_admin, net.station, starts_at=at(28, 20), ends_at=at(29, 6))
    vol = signed_up_volunteer(cast.county_admin, act, 1)
    with time_machine.travel(at(28, 19, 45), tick=False):
        services.attendance_check_in(actor=vol, activity=act, token=token(act, at(28, 19, 45)))
    with time_machine.travel(at(29, 6, 10), tick=False):
        services.attendance_check_out(actor=vol, activity=act, token=token(act, at(29, 6, 10)))
    record = ServiceRecord.objects.get()
    assert record.minutes == 240 + 300
    assert record.date == dt.date(2026, 11, 28)


def test_no_check_out_means_zero_until_the_organiser_checks_out(cast, net):
    act = activity(cast.county_admin, net.station)
    vol = signed_up_volunteer(cast.county_admin, act, 1)
    services.attendance_check_in(actor=vol, activity=act, token=token(act, START), now=START)
    assert not ServiceRecord.objects.exists()
    from wenming.volunteers.models import Volunteer

    services.attendance_manual_check_out(
        actor=cast.station_admin,
        activity=act,
        volunteer_id=Volunteer.objects.get(user=vol).pk,
        reason="未扫码签退，按现场记录补录",
        at=START + dt.timedelta(hours=2),
        now=START + dt.timedelta(days=1),
    )
    assert ServiceRecord.objects.get().minutes == 120


def _two_activities_one_day(cast, net, settings):
    """3 h in the morning and 3 h in the afternoon under a 4 h daily cap."""
    from tests.records.helpers import sign_up

    settings.SERVICE_MINUTES_PER_DAY = 240
    morning = activity(cast.county_admin, net.station, starts_at=at(28, 8), ends_at=at(28, 11))
    afternoon = activity(cast.county_admin, net.station, starts_at=at(28, 13), ends_at=at(28, 16))
    vol = signed_up_volunteer(cast.county_admin, morning, 1)
    sign_up(afternoon, vol)
    for act, cin, cout in [(morning, at(28, 8), at(28, 11)), (afternoon, at(28, 13), at(28, 16))]:
        services.attendance_check_in(actor=vol, activity=act, token=token(act, cin), now=cin)
        services.attendance_check_out(actor=vol, activity=act, token=token(act, cout), now=cout)
    return vol, afternoon


def test_daily_cap_is_per_volunteer_across_activities(cast, net, settings):
    """Two activities on one day count together against the daily cap."""
    _two_activities_one_day(cast, net, settings)
    assert list(ServiceRecord.objects.order_by("id").values_list("minutes", flat=True)) == [180, 60]
    # The cut is kept on the record and in the audit, never silent.
    assert list(ServiceRecord.objects.order_by("id").values_list("minutes_capped", flat=True)) == [
        None,
        120,
    ]
    event = AuditEvent.objects.filter(verb="attendance.check_out").latest("id")
    assert event.changes["minutes_capped"] == [None, 120]


def test_the_cut_is_shown_to_the_volunteer_and_the_organiser(cast, net, settings, login):
    vol, afternoon = _two_activities_one_day(cast, net, settings)
    page = login(cast.station_admin).get(f"/records/activity/{afternoon.pk}/").content.decode()
    assert "当天已满每日上限，扣减 2.0 小时" in page
    mine = login(vol).get("/records/mine/").content.decode()
    assert "当天的服务时长已满每日上限 4.0 小时，本条扣减了 2.0 小时。" in mine
