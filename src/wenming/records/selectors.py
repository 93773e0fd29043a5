"""Reads about attendance and service records, scoped to the actor: organisers and
viewers see their region's activities; a volunteer sees their own records."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor, user_id_of
from wenming.activities.models import Activity, SignUp, SignUpState
from wenming.activities.permissions import is_team_leader, require_organiser
from wenming.core.access import in_scope, scope_q
from wenming.core.audit import column_sql
from wenming.core.errors import NotFound
from wenming.core.figures import by_child
from wenming.core.registry import Period
from wenming.core.roles import Perm
from wenming.records.models import (
    Attendance,
    CorrectionRequest,
    CorrectionStatus,
    RecordStatus,
    ServiceRecord,
)
from wenming.volunteers.leaders import teams_led_by
from wenming.volunteers.models import (
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.own import volunteer_of

AUDIT_VERBS = {
    "attendance.check_in": pgettext_lazy("audit verb", "扫码签到"),
    "attendance.manual_check_in": pgettext_lazy("audit verb", "手动签到"),
    "attendance.check_out": pgettext_lazy("audit verb", "签退"),
    "record.confirm": pgettext_lazy("audit verb", "确认服务记录"),
    "record.reject": pgettext_lazy("audit verb", "不予确认服务记录"),
    "record.correct": pgettext_lazy("audit verb", "更正服务记录"),
    "correction.request": pgettext_lazy("audit verb", "申请更正服务记录"),
    "correction.answer": pgettext_lazy("audit verb", "答复更正申请"),
}


def activity_for_organiser(*, actor: Actor, activity_id: int) -> Activity:
    """An activity the actor organises (or leads the team of). Outsiders get 404, a
    read-only viewer 403."""
    activity = Activity.objects.select_related("unit").filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(_("找不到该活动。"))
    require_organiser(actor, activity)
    return activity


# What check-in, check-out and the scan page read of an activity (the burst's hot path).
CHECKIN_FIELDS = (
    "id", "title", "state", "starts_at", "ends_at", "venue", "address", "latitude",
    "longitude", "region_id", "unit_id", "team_id",
)  # fmt: skip


@functools.cache
def _checkin_lookup_sql() -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(f"a.{column_sql(Activity, f)}" for f in CHECKIN_FIELDS)
    s_volunteer, s_activity = column_sql(SignUp, "volunteer"), column_sql(SignUp, "activity")
    # Driven by the actor's one volunteer record (unique on user), then the (activity,
    # volunteer) index: a lookup, not a scan of the activity's sign-ups, whatever the
    # planner's statistics say about a big event. Identifiers from the models'
    # metadata, every value a parameter.
    return (
        f"SELECT {columns}, (SELECT s.{s_volunteer} FROM {qn(SignUp._meta.db_table)} s "  # noqa: S608
        f"WHERE s.{s_activity} = a.{column_sql(Activity, 'id')} "
        f"AND s.{column_sql(SignUp, 'state')} = %s AND s.{s_volunteer} = "
        f"(SELECT v.{column_sql(Volunteer, 'id')} FROM {qn(Volunteer._meta.db_table)} v "
        f"WHERE v.{column_sql(Volunteer, 'user')} = %s "
        f"AND v.{column_sql(Volunteer, 'status')} = %s)) AS checkin_volunteer_id "
        f"FROM {qn(Activity._meta.db_table)} a WHERE a.{column_sql(Activity, 'id')} = %s"
    )


def activity_for_checkin(*, activity_id: int, actor: Actor | None = None) -> Activity:
    """A public activity (published, ongoing or finished) to check in to; else 404.

    Given an authenticated actor, the same query also answers which of their volunteer
    records holds a place on it (`checkin_volunteer_id`: an active volunteer, signed up
    and not waitlisted; None if none), so that the burst's check-in reads once; it is
    written by hand, since compiling it was a fifth of a check-in's time."""
    if user_id_of(actor):
        params = [SignUpState.SIGNED_UP, user_id_of(actor), VolunteerStatus.ACTIVE, activity_id]
        activity = next(iter(Activity.objects.raw(_checkin_lookup_sql(), params)), None)
    else:
        activity = Activity.objects.only(*CHECKIN_FIELDS).filter(pk=activity_id).order_by().first()
    if activity is None or not activity.is_public:
        raise NotFound(_("找不到该活动。"))
    return activity


def attendance_counts(*, activity: Activity) -> dict[str, int]:
    counts = Attendance.objects.filter(activity=activity).aggregate(
        checked_in=Count("id"), checked_out=Count("id", filter=Q(checked_out_at__isnull=False))
    )
    return {"checked_in": counts["checked_in"] or 0, "checked_out": counts["checked_out"] or 0}


def roster_rows(*, activity: Activity) -> list[SignUp]:
    """The signed-up volunteers with their attendance and record (three queries)."""
    signups = list(
        SignUp.objects.filter(activity=activity, state=SignUpState.SIGNED_UP)
        .select_related("volunteer")
        .order_by("volunteer__name", "id")
    )
    attendances = {
        a.volunteer_id: a
        for a in Attendance.objects.filter(activity=activity).select_related("service_record")
    }
    for signup in signups:
        attendance = attendances.get(signup.volunteer_id)
        signup.attendance = attendance  # type: ignore[attr-defined]
        signup.record = (  # type: ignore[attr-defined]
            getattr(attendance, "service_record", None) if attendance else None
        )
    return signups


def activity_records(*, activity: Activity) -> QuerySet[ServiceRecord]:
    return ServiceRecord.objects.filter(activity=activity).select_related("volunteer")


def my_records(*, actor: Actor) -> QuerySet[ServiceRecord]:
    """The acting volunteer's records, newest first, with their open correction."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return ServiceRecord.objects.none()
    return (
        ServiceRecord.objects.filter(volunteer=volunteer)
        .select_related("activity", "unit", "reverses")
        .prefetch_related(
            Prefetch(
                "corrections",
                queryset=CorrectionRequest.objects.order_by("-id"),
                to_attr="correction_list",
            )
        )
        .annotate(reversed_count=Count("reversed_by"))
        .order_by("-date", "-id")
    )


def confirmed_minutes_sum(*, volunteer: Volunteer) -> int:
    from django.db.models import Sum

    total = ServiceRecord.objects.filter(
        volunteer=volunteer, status=RecordStatus.CONFIRMED
    ).aggregate(s=Sum("minutes"))["s"]
    return int(total or 0)


def record_list(
    *, actor: Actor, status: str = "", activity_id: int | None = None, mine: bool = False
) -> QuerySet[ServiceRecord]:
    """Records the actor may see: their own, and those in their ACTIVITY_VIEW scope."""
    volunteer = volunteer_of(actor)
    own = Q(volunteer=volunteer) if volunteer is not None else Q(pk__in=[])
    visible = (
        own
        if mine
        else own | scope_q(actor, Perm.ACTIVITY_VIEW, "region_id") | _led_by(actor, "activity")
    )
    qs = ServiceRecord.objects.filter(visible).select_related("volunteer", "activity")
    if status in RecordStatus.values:
        qs = qs.filter(status=status)
    if activity_id is not None:
        qs = qs.filter(activity_id=activity_id)
    return qs.order_by("-date", "-id")


def record_get(*, actor: Actor, record_id: int) -> ServiceRecord:
    record = (
        ServiceRecord.objects.select_related("activity", "volunteer").filter(pk=record_id).first()
    )
    if record is None or not (
        (record.volunteer.user_id is not None and record.volunteer.user_id == actor.pk)
        or in_scope(actor, Perm.ACTIVITY_VIEW, record.region_id)
        or (record.activity is not None and is_team_leader(actor, record.activity))
    ):
        raise NotFound(_("找不到该服务记录。"))
    return record


def _led_by(actor: Actor, activity_field: str) -> Q:
    """Rows of activities organised by a team the actor leads (active leader)."""
    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{activity_field}__team_id__in": teams_led_by(actor)})


def correction_list(
    *, actor: Actor, open_only: bool = True, include_own: bool = True
) -> QuerySet[CorrectionRequest]:
    """Correction requests in the actor's ACTIVITY_VIEW scope, and the actor's own
    (unless it is the organiser's inbox)."""
    volunteer = volunteer_of(actor) if include_own else None
    own = Q(volunteer=volunteer) if volunteer is not None else Q(pk__in=[])
    qs = CorrectionRequest.objects.filter(
        own
        | scope_q(actor, Perm.ACTIVITY_VIEW, "record__region_id")
        | _led_by(actor, "record__activity")
    ).select_related("record", "record__activity", "volunteer")
    if open_only:
        qs = qs.filter(status=CorrectionStatus.OPEN)
    return qs.order_by("created_at", "id")


def correction_get(*, actor: Actor, correction_id: int) -> CorrectionRequest:
    correction = (
        CorrectionRequest.objects.select_related("record", "record__activity")
        .filter(pk=correction_id)
        .first()
    )
    if correction is None:
        raise NotFound(_("找不到该更正申请。"))
    record_get(actor=actor, record_id=correction.record_id)
    return correction


def hours_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Confirmed service hours dated in the period, by the region of the record's unit
    (corrections are negative entries, so they count)."""
    rows = ServiceRecord.objects.filter(
        status=RecordStatus.CONFIRMED, date__gte=period.start, date__lte=period.end
    )
    minutes = by_child(rows, "region_id", prefix, Sum("minutes"))
    return {code: round(value / 60, 1) for code, value in minutes.items()}
