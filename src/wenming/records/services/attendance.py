"""Attendance: check-in and check-out by QR (token, time window, geofence) or by the
organiser's hand; a check-out writes the pending service record."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_id_of, user_of
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState
from wenming.activities.permissions import require_organiser
from wenming.core.audit import (
    audit_insert_select_sql,
    audit_record,
    audit_sql_params,
    column_sql,
)
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.geo import distance_m
from wenming.records.checkin import token_check
from wenming.records.hours import daily_capped, service_minutes
from wenming.records.models import (
    Attendance,
    How,
    ServiceRecord,
)
from wenming.volunteers.models import (
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.own import active_volunteer_of

# Check-in is open from the grace period before the start until the end; check-out
# until the grace period after the end (a volunteer may leave a little late).
CHECKIN_STATES = (ActivityState.PUBLISHED, ActivityState.ONGOING)
CHECKOUT_STATES = (ActivityState.PUBLISHED, ActivityState.ONGOING, ActivityState.FINISHED)
MANUAL_STATES = CHECKOUT_STATES


def _volunteer_of(actor: Actor) -> Volunteer:
    return active_volunteer_of(actor, missing=_("只有已注册的志愿者可以签到。"))


def _require_signed_up(activity: Activity, volunteer: Volunteer) -> None:
    if not SignUp.objects.filter(
        activity_id=activity.pk, volunteer_id=volunteer.pk, state=SignUpState.SIGNED_UP
    ).exists():
        raise RuleViolation(_("您没有报名该活动（或仍在候补），不能签到。"), code="not_signed_up")


def _grace() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CHECKIN_GRACE_MINUTES)


def _require_checkin_open(activity: Activity, now: dt.datetime) -> None:
    if activity.state not in CHECKIN_STATES:
        raise RuleViolation(
            _("活动当前为“%(state)s”，不能签到。") % {"state": activity.get_state_display()},
            code="closed",
        )
    if now < activity.starts_at - _grace():
        raise RuleViolation(
            _("活动开始前 %(n)s 分钟才能签到。") % {"n": settings.CHECKIN_GRACE_MINUTES},
            code="too_early",
        )
    if now > activity.ends_at:
        raise RuleViolation(_("活动已经结束，不能再签到。"), code="closed")


def _require_checkout_open(activity: Activity, now: dt.datetime) -> None:
    if now < activity.starts_at:
        # A check-out before the start is a double tap, never service: it would close
        # the attendance at 0 minutes.
        raise RuleViolation(_("活动还没有开始，开始后才能签退。"), code="too_early")
    if activity.state not in CHECKOUT_STATES or now > activity.ends_at + _grace():
        raise RuleViolation(_("已超过签退时间，请联系活动组织者补签退。"), code="closed")


def _require_on_site(
    activity: Activity, latitude: float | None, longitude: float | None
) -> int | None:
    """The geofence, when the activity has coordinates: within CHECKIN_RADIUS_METERS
    (great-circle distance). Returns the distance in whole metres."""
    if activity.latitude is None or activity.longitude is None:
        return None
    if latitude is None or longitude is None:
        raise RuleViolation(
            _("该活动需要在现场签到，请允许浏览器获取您的位置后重试。"), code="no_location"
        )
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise RuleViolation(_("位置信息不正确。"), code="no_location")
    distance = distance_m(float(activity.latitude), float(activity.longitude), latitude, longitude)
    radius = settings.CHECKIN_RADIUS_METERS
    # Whole metres: float noise must not refuse someone standing on the boundary.
    if round(distance) > radius:
        raise RuleViolation(
            _("您距离活动地点约 %(d)s 米，超出 %(r)s 米的签到范围。")
            % {"d": round(distance), "r": radius},
            code="too_far",
        )
    return round(distance)


# ---------------------------------------------------------------- check-in and check-out


def _create_attendance(
    *, actor: Actor, activity: Activity, volunteer_id: int, values: dict[str, Any], verb: str,
    note: str = "",
) -> Attendance:  # fmt: skip
    """Insert the attendance, or return the one a concurrent request inserted first."""
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                activity=activity, volunteer_id=volunteer_id, **values
            )
    except IntegrityError:
        return Attendance.objects.get(activity=activity, volunteer_id=volunteer_id)
    audit_record(
        actor=actor,
        verb=verb,
        target=attendance,
        region_code=activity.region_id,
        changes={"checked_in_at": [None, attendance.checked_in_at.isoformat()]},
        note=note,
    )
    return attendance


_UNSET: Any = object()


def attendance_check_in(
    *,
    actor: Actor,
    activity: Activity,
    token: str,
    latitude: float | None = None,
    longitude: float | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """The acting volunteer checks in by the activity's QR token. Only with a valid token,
    a place (not the waitlist), inside the check-in window and the geofence. A second
    scan returns the existing attendance unchanged.

    Not wrapped in a transaction of its own: the reads take no locks, and the one write
    (the attendance with its audit event) is a single statement on PostgreSQL, atomic by
    itself, or an atomic block elsewhere. A big event's burst is this function's load,
    and BEGIN/SAVEPOINT/COMMIT were half its round trips."""
    now = now or timezone.now()
    token_check(activity.pk, token, now)
    # The place: read with the activity by `selectors.activity_for_checkin(actor=...)`,
    # else here. The unique constraint, not a lookup first, makes a replay harmless.
    volunteer_id = getattr(activity, "checkin_volunteer_id", _UNSET)
    if volunteer_id is _UNSET:
        volunteer_id = (
            SignUp.objects.filter(
                activity_id=activity.pk,
                volunteer__user_id=user_id_of(actor),
                volunteer__status=VolunteerStatus.ACTIVE,
                state=SignUpState.SIGNED_UP,
            )
            .values_list("volunteer_id", flat=True)
            .first()
            if getattr(actor, "is_authenticated", False)
            else None
        )
    if volunteer_id is None:
        _require_signed_up(activity, _volunteer_of(actor))  # says which rule refuses
        raise RuleViolation(_("您没有报名该活动，不能签到。"), code="not_signed_up")
    try:
        _require_checkin_open(activity, now)
        distance = _require_on_site(activity, latitude, longitude)
    except RuleViolation:
        # Already checked in: a late or off-site replay is harmless, not an error.
        existing = Attendance.objects.filter(activity=activity, volunteer_id=volunteer_id).first()
        if existing is not None:
            return existing
        raise
    values = {"checked_in_at": now, "checked_in_how": How.QR, "check_in_distance_m": distance}
    if connection.vendor == "postgresql":
        created = _insert_attendance_audited(
            actor=actor, activity=activity, volunteer_id=volunteer_id, values=values
        )
        if created is not None:
            return created
        return Attendance.objects.get(activity=activity, volunteer_id=volunteer_id)
    with transaction.atomic():
        return _create_attendance(
            actor=actor,
            activity=activity,
            volunteer_id=volunteer_id,
            values=values,
            verb="attendance.check_in",
        )


@functools.cache
def _attendance_audited_sql() -> str:
    qn = connection.ops.quote_name
    a = Attendance._meta

    def columns(names: list[str]) -> str:
        return ", ".join(column_sql(Attendance, n) for n in names)

    a_fields = ["activity", "volunteer", "checked_in_at", "checked_in_how",
                "checked_out_at", "checked_out_how", "check_in_distance_m", "manual_by",
                "manual_reason"]  # fmt: skip
    # Identifiers from the models' metadata, every value a parameter.
    event = audit_insert_select_sql(
        source="ins", target_id="ins.id", target_label="%s", changes="%s"
    )
    return (
        f"WITH ins AS (INSERT INTO {qn(a.db_table)} ({columns(a_fields)}) "  # noqa: S608
        "VALUES (%s, %s, %s::timestamptz, %s, NULL, '', %s::integer, NULL, '') "
        f"ON CONFLICT ({columns(['activity', 'volunteer'])}) DO NOTHING "
        f"RETURNING {columns(['id'])} AS id), "
        f"ev AS ({event}) "
        "SELECT id FROM ins"
    )


def _insert_attendance_audited(
    *, actor: Actor, activity: Activity, volunteer_id: int, values: dict[str, Any]
) -> Attendance | None:
    """PostgreSQL: insert the QR attendance and its audit event in one statement (one
    round trip, atomic without BEGIN/COMMIT). ON CONFLICT DO NOTHING instead of a
    savepoint: a replay or a concurrent first scan inserts nothing, and then no audit
    event either (None is returned). The event is the one `audit_record` would write."""
    attendance = Attendance(activity_id=activity.pk, volunteer_id=volunteer_id, **values)
    params = [
        activity.pk, volunteer_id, attendance.checked_in_at, attendance.checked_in_how,
        attendance.check_in_distance_m,
        *audit_sql_params(
            actor=actor,
            verb="attendance.check_in",
            target_type=Attendance._meta.label_lower,
            region_code=activity.region_id,
        ),
        str(attendance)[:300],
        json.dumps({"checked_in_at": [None, attendance.checked_in_at.isoformat()]}),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_attendance_audited_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    attendance.pk = row[0]
    attendance._state.adding = False
    attendance._state.db = connection.alias
    return attendance


def _close_attendance(
    *, actor: Actor, attendance: Attendance, at: dt.datetime, how: str, reason: str = ""
) -> Attendance:
    """Check out a locked, open attendance and create its pending service record."""
    attendance.checked_out_at = max(at, attendance.checked_in_at)
    attendance.checked_out_how = how
    fields = ["checked_out_at", "checked_out_how"]
    if how == How.MANUAL:
        attendance.manual_by = user_of(actor)
        attendance.manual_reason = reason
        fields += ["manual_by", "manual_reason"]
    attendance.save(update_fields=fields)
    record = _record_for(actor=actor, attendance=attendance)
    audit_record(
        actor=actor,
        verb="attendance.check_out",
        target=attendance,
        region_code=attendance.activity.region_id,
        changes={
            "checked_out_at": [None, attendance.checked_out_at.isoformat()],
            "how": [None, how],
            "minutes": [None, record.minutes],
        }
        | ({"minutes_capped": [None, record.minutes_capped]} if record.minutes_capped else {}),
        note=reason,
    )
    return attendance


def _attendance_locked(activity: Activity, volunteer_id: int, missing: str) -> Attendance:
    """The volunteer's attendance at the activity, row-locked, or `missing` refused."""
    attendance = (
        Attendance.objects.select_for_update()
        .select_related("activity")
        .filter(activity=activity, volunteer_id=volunteer_id)
        .first()
    )
    if attendance is None:
        raise RuleViolation(missing, code="not_checked_in")
    return attendance


def _record_for(*, actor: Actor, attendance: Attendance) -> ServiceRecord:
    """The pending service record of a closed attendance (one per attendance)."""
    activity = attendance.activity
    assert attendance.checked_out_at is not None
    minutes = service_minutes(
        checked_in_at=attendance.checked_in_at,
        checked_out_at=attendance.checked_out_at,
        window_start=activity.starts_at,
        window_end=activity.ends_at,
        cap_per_day=settings.SERVICE_MINUTES_PER_DAY,
    )
    tz = timezone.get_default_timezone()
    start = max(attendance.checked_in_at, activity.starts_at).astimezone(tz)
    end = min(attendance.checked_out_at, activity.ends_at).astimezone(tz)
    cut = 0
    if start.date() == end.date():
        # The daily cap is per volunteer, not per activity.
        minutes, cut = daily_capped(
            volunteer_id=attendance.volunteer_id, day=start.date(), minutes=minutes
        )
    record, _created = ServiceRecord.objects.get_or_create(
        attendance=attendance,
        defaults={
            "volunteer_id": attendance.volunteer_id,
            "activity": activity,
            "unit_id": activity.unit_id,
            "region_id": activity.region_id,
            "date": start.date(),
            "place": (activity.address or activity.venue)[:200],
            "content": activity.title[:300],
            "minutes": minutes,
            "minutes_capped": cut or None,
        },
    )
    return record


@transaction.atomic
def attendance_check_out(
    *,
    actor: Actor,
    activity: Activity,
    token: str,
    latitude: float | None = None,
    longitude: float | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """The acting volunteer checks out by the QR token (same screen as check-in); the
    minutes go into a pending service record. Checking out again changes nothing."""
    now = now or timezone.now()
    token_check(activity.pk, token, now)
    volunteer = _volunteer_of(actor)
    attendance = _attendance_locked(activity, volunteer.pk, _("您还没有签到，不能签退。"))
    if attendance.checked_out_at is not None:
        return attendance
    _require_checkout_open(activity, now)
    _require_on_site(activity, latitude, longitude)
    return _close_attendance(actor=actor, attendance=attendance, at=now, how=How.QR)


def _manual_reason(reason: str) -> str:
    reason = (reason or "").strip()[:200]
    if not reason:
        raise RuleViolation(_("手动签到或签退须填写原因。"), field="reason")
    return reason


def _manual_time(activity: Activity, at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    at = at or now
    if at > now:
        raise RuleViolation(_("时间不能晚于现在。"), field="at")
    if activity.state not in MANUAL_STATES or at < activity.starts_at - _grace():
        raise RuleViolation(_("只能在活动开始后（或开始前不久）签到、签退。"), field="at")
    return at


def _activity_volunteer(activity: Activity, volunteer_id: int) -> Volunteer:
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFound(_("找不到该志愿者。"))
    _require_signed_up(activity, volunteer)
    return volunteer


@transaction.atomic
def attendance_manual_check_in(
    *,
    actor: Actor,
    activity: Activity,
    volunteer_id: int,
    reason: str,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """The organiser checks a signed-up volunteer in by hand, with a reason (audited);
    no token or geofence. Idempotent like the QR check-in."""
    require_organiser(actor, activity)
    now = now or timezone.now()
    reason = _manual_reason(reason)
    volunteer = _activity_volunteer(activity, volunteer_id)
    at = _manual_time(activity, at, now)
    existing = Attendance.objects.filter(activity=activity, volunteer=volunteer).first()
    if existing is not None:
        return existing
    return _create_attendance(
        actor=actor,
        activity=activity,
        volunteer_id=volunteer.pk,
        values={
            "checked_in_at": at,
            "checked_in_how": How.MANUAL,
            "manual_by": actor,
            "manual_reason": reason,
        },
        verb="attendance.manual_check_in",
        note=reason,
    )


@transaction.atomic
def attendance_manual_check_out(
    *,
    actor: Actor,
    activity: Activity,
    volunteer_id: int,
    reason: str,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Attendance:
    """The organiser checks a volunteer out by hand (who forgot to scan), with a reason;
    creates the pending record. A volunteer already checked out is left unchanged."""
    require_organiser(actor, activity)
    now = now or timezone.now()
    reason = _manual_reason(reason)
    at = _manual_time(activity, at, now)
    attendance = _attendance_locked(activity, volunteer_id, _("该志愿者还没有签到。"))
    if attendance.checked_out_at is not None:
        return attendance
    if at < attendance.checked_in_at:
        raise RuleViolation(_("签退时间不能早于签到时间。"), field="at")
    return _close_attendance(
        actor=actor, attendance=attendance, at=at, how=How.MANUAL, reason=reason
    )
