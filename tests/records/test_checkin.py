"""QR check-in and check-out: tokens (expiry, forgery, replay) under time travel, the
geofence boundary, idempotency, who may check in, and manual check-in with a reason."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import time_machine

from tests.activities.helpers import volunteer_user
from tests.records.helpers import (
    END,
    LAT,
    LNG,
    START,
    activity,
    sign_up,
    signed_up_volunteer,
    state,
    token,
)
from wenming.activities.models import Activity, ActivityState, SignUpState
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.geo import EARTH_RADIUS_M, distance_m
from wenming.records import services
from wenming.records.checkin import pass_for, token_check, token_for
from wenming.records.models import Attendance, How, RecordStatus, ServiceRecord

T0 = START + dt.timedelta(minutes=5)


def check_in(user, act, at, **kw):
    return services.attendance_check_in(
        actor=user, activity=act, token=kw.pop("tok", None) or token(act, at), now=at, **kw
    )


def refused(call, code=None, exc=RuleViolation):
    before = state()
    with pytest.raises(exc) as info:
        call()
    assert state() == before
    if code:
        assert info.value.code == code
    return info.value


# ---------------------------------------------------------------- tokens


def test_token_valid_in_its_slot_and_the_next_only():
    made = dt.datetime(2026, 11, 28, 1, 0, 0, tzinfo=dt.UTC)  # a slot boundary
    tok = token_for(7, made)
    token_check(7, tok, made)
    token_check(7, tok, made + dt.timedelta(seconds=59))
    with pytest.raises(RuleViolation) as exc:
        token_check(7, tok, made + dt.timedelta(seconds=60))
    assert exc.value.code == "token_expired"
    assert "过期" in exc.value.message
    with pytest.raises(RuleViolation):  # a token from the future is not valid either
        token_check(7, tok, made - dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    "forged",
    ["", "abc", "12345", "12345.", ".abc", "-1.abc", "１２.ab", "99999999999999.ab"],
)
def test_malformed_tokens_are_invalid(forged):
    with pytest.raises(RuleViolation) as exc:
        token_check(7, forged, T0)
    assert exc.value.code == "token_invalid"


def test_a_token_is_bound_to_its_activity_and_key(settings):
    tok = token_for(7, T0)
    with pytest.raises(RuleViolation) as exc:
        token_check(8, tok, T0)
    assert exc.value.code == "token_invalid"
    slot, mac = tok.split(".")
    with pytest.raises(RuleViolation):
        token_check(7, f"{int(slot) + 1}.{mac}", T0)
    with pytest.raises(RuleViolation):  # a pass is not a token, nor the reverse
        token_check(7, f"p{tok}", T0)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    with pytest.raises(RuleViolation):
        token_check(7, tok, T0)


def test_pass_lasts_five_minutes():
    p = pass_for(7, T0)
    token_check(7, p, T0 + dt.timedelta(minutes=5))
    with pytest.raises(RuleViolation) as exc:
        token_check(7, p, T0 + dt.timedelta(minutes=6))
    assert exc.value.code == "token_expired"


def test_expired_token_changes_nothing_under_time_travel(cast, act, vol):
    tok = token(act, T0)
    with time_machine.travel(T0 + dt.timedelta(seconds=61), tick=False):
        refused(
            lambda: services.attendance_check_in(actor=vol, activity=act, token=tok),
            "token_expired",
        )
    with time_machine.travel(T0 + dt.timedelta(seconds=20), tick=False):
        attendance = services.attendance_check_in(actor=vol, activity=act, token=tok)
    assert attendance.checked_in_at == T0 + dt.timedelta(seconds=20)


def test_forged_token_changes_nothing(cast, act, vol):
    other = activity(cast.county_admin, cast.county_admin and act.unit, title="另一个活动")
    refused(lambda: check_in(vol, act, T0, tok=token(other, T0)), "token_invalid")
    refused(lambda: check_in(vol, act, T0, tok=token(act, T0)[:-1] + "0"), "token_invalid")


def test_replay_is_harmless(cast, act, vol):
    tok = token(act, T0)
    first = services.attendance_check_in(actor=vol, activity=act, token=tok, now=T0)
    before = state()
    again = services.attendance_check_in(
        actor=vol, activity=act, token=tok, now=T0 + dt.timedelta(seconds=30)
    )
    assert again.pk == first.pk and again.checked_in_at == T0
    assert state() == before
    assert Attendance.objects.count() == 1


# ---------------------------------------------------------------- who and when


def test_check_in_records_who_how_and_audits(cast, act, vol):
    attendance = check_in(vol, act, T0)
    assert (attendance.checked_in_how, attendance.checked_out_at) == (How.QR, None)
    assert attendance.volunteer.user_id == vol.pk
    from wenming.core.models import AuditEvent

    assert AuditEvent.objects.filter(verb="attendance.check_in").count() == 1


def test_waitlisted_or_not_signed_up_or_not_volunteer_is_refused(cast, act):
    waiting = volunteer_user(cast.county_admin, 2)
    sign_up(act, waiting, SignUpState.WAITLISTED)
    refused(lambda: check_in(waiting, act, T0), "not_signed_up")
    stranger = volunteer_user(cast.county_admin, 3)
    refused(lambda: check_in(stranger, act, T0), "not_signed_up")
    refused(lambda: check_in(cast.station_admin, act, T0), "not_volunteer")


@pytest.mark.parametrize(
    ("offset", "ok"),
    [
        (dt.timedelta(minutes=-31), False),
        (dt.timedelta(minutes=-30), True),
        (dt.timedelta(hours=3), True),
        (dt.timedelta(hours=3, seconds=1), False),
    ],
)
def test_check_in_window(cast, act, vol, offset, ok):
    at = START + offset
    if ok:
        assert check_in(vol, act, at).checked_in_at == at
    else:
        refused(lambda: check_in(vol, act, at))


@pytest.mark.parametrize(
    "st", [ActivityState.DRAFT, ActivityState.FINISHED, ActivityState.CANCELLED]
)
def test_check_in_refused_outside_live_states(cast, act, vol, st):
    Activity.objects.filter(pk=act.pk).update(state=st)
    act.refresh_from_db()
    refused(lambda: check_in(vol, act, T0), "closed")


# ---------------------------------------------------------------- geofence


def north_of(metres: float) -> tuple[float, float]:
    return float(LAT) + math.degrees(metres / EARTH_RADIUS_M), float(LNG)


def test_haversine_known_distance():
    # One degree of latitude is about 111.2 km on the mean sphere.
    assert distance_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)
    assert distance_m(34.44, 117.45, 34.44, 117.45) == 0


@pytest.mark.parametrize(("metres", "ok"), [(0, True), (199, True), (200, True), (201, False)])
def test_geofence_boundary(cast, net, metres, ok):
    act = activity(cast.county_admin, net.station, latitude=LAT, longitude=LNG)
    vol = signed_up_volunteer(cast.county_admin, act, 5)
    lat, lng = north_of(metres)
    if ok:
        attendance = check_in(vol, act, T0, latitude=lat, longitude=lng)
        assert attendance.check_in_distance_m == metres
    else:
        err = refused(lambda: check_in(vol, act, T0, latitude=lat, longitude=lng), "too_far")
        assert "201" in err.message and "200" in err.message


def test_geofence_needs_a_location(cast, net):
    act = activity(cast.county_admin, net.station, latitude=LAT, longitude=LNG)
    vol = signed_up_volunteer(cast.county_admin, act, 5)
    refused(lambda: check_in(vol, act, T0), "no_location")
    refused(lambda: check_in(vol, act, T0, latitude=91.0, longitude=0.0), "no_location")


def test_radius_is_a_setting(cast, net, settings):
    settings.CHECKIN_RADIUS_METERS = 50
    act = activity(cast.county_admin, net.station, latitude=LAT, longitude=LNG)
    vol = signed_up_volunteer(cast.county_admin, act, 5)
    refused(lambda: check_in(vol, act, T0, latitude=north_of(60)[0], longitude=float(LNG)))


def test_no_coordinates_no_geofence(cast, act, vol):
    assert check_in(vol, act, T0).check_in_distance_m is None


# ---------------------------------------------------------------- check-out


def check_out(user, act, at, **kw):
    return services.attendance_check_out(
        actor=user, activity=act, token=token(act, at), now=at, **kw
    )


def test_check_out_creates_one_pending_record_and_is_idempotent(cast, act, vol):
    check_in(vol, act, START - dt.timedelta(minutes=20))  # arrived early: not counted
    attendance = check_out(vol, act, START + dt.timedelta(hours=2))
    record = ServiceRecord.objects.get()
    assert (record.minutes, record.status, record.attendance_id) == (
        120,
        RecordStatus.PENDING,
        attendance.pk,
    )
    assert (record.place, record.content, record.unit_id) == (act.venue, act.title, act.unit_id)
    assert record.date == dt.date(2026, 11, 28)
    before = state()
    again = check_out(vol, act, START + dt.timedelta(hours=2, minutes=30))
    assert again.checked_out_at == START + dt.timedelta(hours=2)
    assert state() == before


def test_check_out_before_check_in_is_refused(cast, act, vol):
    refused(lambda: check_out(vol, act, T0), "not_checked_in")


def test_check_out_after_the_grace_period_is_refused(cast, act, vol):
    check_in(vol, act, T0)
    refused(lambda: check_out(vol, act, END + dt.timedelta(minutes=31)), "closed")
    assert check_out(vol, act, END + dt.timedelta(minutes=30)).checked_out_at is not None
    assert ServiceRecord.objects.get().minutes == 175  # clamped to the window's end


# ---------------------------------------------------------------- manual


def test_manual_check_in_and_out_need_a_reason_and_are_audited(cast, act, vol):
    from wenming.core.models import AuditEvent
    from wenming.volunteers.models import Volunteer

    v = Volunteer.objects.get(user=vol)
    refused(
        lambda: services.attendance_manual_check_in(
            actor=cast.station_admin, activity=act, volunteer_id=v.pk, reason=" ", now=T0
        )
    )
    a = services.attendance_manual_check_in(
        actor=cast.station_admin, activity=act, volunteer_id=v.pk, reason="手机没电", now=T0
    )
    assert (a.checked_in_how, a.manual_by_id, a.manual_reason) == (
        How.MANUAL,
        cast.station_admin.pk,
        "手机没电",
    )
    a = services.attendance_manual_check_out(
        actor=cast.station_admin,
        activity=act,
        volunteer_id=v.pk,
        reason="忘记签退",
        at=START + dt.timedelta(hours=1),
        now=END + dt.timedelta(hours=5),
    )
    assert a.checked_out_how == How.MANUAL
    assert ServiceRecord.objects.get().minutes == 55
    assert AuditEvent.objects.filter(verb="attendance.manual_check_in", note="手机没电").exists()
    assert AuditEvent.objects.filter(verb="attendance.check_out", note="忘记签退").exists()


def test_manual_check_out_cannot_precede_check_in_or_the_future(cast, act, vol):
    from wenming.volunteers.models import Volunteer

    v = Volunteer.objects.get(user=vol)
    check_in(vol, act, T0)
    call = services.attendance_manual_check_out
    refused(
        lambda: call(
            actor=cast.station_admin,
            activity=act,
            volunteer_id=v.pk,
            reason="x",
            at=T0 - dt.timedelta(minutes=1),
            now=END,
        )
    )
    refused(
        lambda: call(
            actor=cast.station_admin,
            activity=act,
            volunteer_id=v.pk,
            reason="x",
            at=END + dt.timedelta(minutes=1),
            now=END,
        )
    )


@pytest.mark.parametrize(
    ("who", "exc"),
    [
        ("outsider", NotFound),
        ("supervisor", Forbidden),
        ("team_leader", Forbidden),
        ("volunteer", NotFound),
    ],
)
def test_manual_check_in_denied(cast, act, vol, who, exc):
    from wenming.volunteers.models import Volunteer

    v = Volunteer.objects.get(user=vol)
    refused(
        lambda: services.attendance_manual_check_in(
            actor=getattr(cast, who), activity=act, volunteer_id=v.pk, reason="x", now=T0
        ),
        exc=exc,
    )


def test_no_check_out_before_the_start(cast, net):
    """An elderly volunteer's double tap right after checking in before the start must
    not close the attendance at 0 minutes."""
    from tests.records.helpers import END, START, activity, signed_up_volunteer, state, token
    from wenming.core.errors import RuleViolation
    from wenming.records import services

    act = activity(cast.county_admin, net.station, starts_at=START, ends_at=END)
    vol = signed_up_volunteer(cast.county_admin, act, 7)
    early = START - dt.timedelta(minutes=20)
    services.attendance_check_in(actor=vol, activity=act, token=token(act, early), now=early)
    before = state()
    with pytest.raises(RuleViolation) as exc:
        services.attendance_check_out(
            actor=vol, activity=act, token=token(act, early), now=early + dt.timedelta(seconds=1)
        )
    assert exc.value.code == "too_early"
    assert state() == before
    services.attendance_check_out(actor=vol, activity=act, token=token(act, END), now=END)


def test_the_scan_page_offers_no_check_out_before_the_start(cast, net, login):
    import time_machine

    from tests.records.helpers import END, START, activity, signed_up_volunteer, token
    from wenming.records import services
    from wenming.records.checkin import pass_for

    act = activity(cast.county_admin, net.station, starts_at=START, ends_at=END)
    vol = signed_up_volunteer(cast.county_admin, act, 8)
    early = START - dt.timedelta(minutes=20)
    services.attendance_check_in(actor=vol, activity=act, token=token(act, early), now=early)
    client = login(vol)
    with time_machine.travel(early, tick=False):
        page = client.get(f"/checkin/{act.pk}/", {"t": pass_for(act.pk, early)}).content.decode()
    assert 'id="scan-form"' not in page and "结束时再扫一次码签退" in page
    during = START + dt.timedelta(minutes=30)
    with time_machine.travel(during, tick=False):
        page = client.get(f"/checkin/{act.pk}/", {"t": pass_for(act.pk, during)}).content.decode()
    assert '<details class="mt-4" id="checkout-box">' in page and "确认签退" in page
