"""Demo certificate: the demo volunteer (13800000005) gets one certificate from the unit
holding most of their confirmed hours. When the demo has no confirmed records for them
yet, their attendance at a few finished demo activities is recorded and confirmed first,
through the records services (as the county admin would, by hand). Idempotent."""

from __future__ import annotations

from django.db.models import F, Min, Sum
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.accounts.models import User
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState
from wenming.certificates.models import Certificate
from wenming.certificates.services import certificate_issue
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.network.models import Unit
from wenming.records import services as records
from wenming.records.models import Attendance, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer, VolunteerStatus

DEMO_VERB = "demo.certificates"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示证明")
DEMO_VOLUNTEER_PHONE = "13800000005"
DEMO_STAFF_PHONE = "13800000001"  # 王中心, the county admin
DEMO_REASON = "演示数据：补录签到签退"
DEMO_RECORDS = 3


def _user(phone: str) -> User | None:
    return User.objects.filter(phone_digest__in=crypto.digests(phone)).first()


def _past_activities(volunteer: Volunteer) -> list[Activity]:
    """Finished demo activities the volunteer signed up for. The activities seed signs the
    demo login up first, but picks it by ordering on user_id descending, which puts NULLs
    first on PostgreSQL; so when it has no past sign-up, sign it up here (demo data, the
    way the activities seed writes its sign-ups)."""
    finished = Activity.objects.filter(
        state=ActivityState.FINISHED, ends_at__lt=timezone.now()
    ).order_by("starts_at")
    mine = list(
        finished.filter(signups__volunteer=volunteer, signups__state=SignUpState.SIGNED_UP)[
            :DEMO_RECORDS
        ]
    )
    if mine:
        return mine
    spare = [a for a in finished if a.signed_up_count < a.quota][:DEMO_RECORDS]
    for activity in spare:
        SignUp.objects.create(activity=activity, volunteer=volunteer, state=SignUpState.SIGNED_UP)
        Activity.objects.filter(pk=activity.pk).update(signed_up_count=F("signed_up_count") + 1)
    return spare


def _record_past_activities(staff: User, volunteer: Volunteer) -> int:
    activities = _past_activities(volunteer)
    count = 0
    for activity in activities:
        if Attendance.objects.filter(activity=activity, volunteer=volunteer).exists():
            continue
        records.attendance_manual_check_in(
            actor=staff,
            activity=activity,
            volunteer_id=volunteer.pk,
            reason=DEMO_REASON,
            at=activity.starts_at,
        )
        attendance = records.attendance_manual_check_out(
            actor=staff,
            activity=activity,
            volunteer_id=volunteer.pk,
            reason=DEMO_REASON,
            at=activity.ends_at,
        )
        record = ServiceRecord.objects.get(attendance=attendance)
        if record.status == RecordStatus.PENDING:
            records.record_confirm(actor=staff, record=record)
        count += 1
    return count


def seed_certificates() -> dict[str, int]:
    created = {"records": 0, "certificates": 0}
    volunteer_user, staff = _user(DEMO_VOLUNTEER_PHONE), _user(DEMO_STAFF_PHONE)
    if volunteer_user is None or staff is None:
        return created
    volunteer = Volunteer.objects.filter(
        user=volunteer_user, status=VolunteerStatus.ACTIVE, number__isnull=False
    ).first()
    if volunteer is None or Certificate.objects.filter(volunteer=volunteer).exists():
        return created
    confirmed = ServiceRecord.objects.filter(volunteer=volunteer, status=RecordStatus.CONFIRMED)
    if not confirmed.exists():
        created["records"] = _record_past_activities(staff, volunteer)
    best = (
        confirmed.values("unit_id")
        .annotate(total=Sum("minutes"), first=Min("date"))
        .order_by("-total", "unit_id")
        .first()
    )
    if best is None or (best["total"] or 0) <= 0:
        return created
    unit = Unit.objects.get(pk=best["unit_id"])
    cert = certificate_issue(
        actor=staff,
        unit=unit,
        volunteer=volunteer,
        period_start=best["first"],
        period_end=timezone.localdate(),
    )
    created["certificates"] = 1
    audit_record(
        actor=None, verb=DEMO_VERB, target=cert, region_code=unit.region_id, changes=created
    )
    return created
