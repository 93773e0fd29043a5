"""Demo records: every demo volunteer's confirmed hours as an opening-balance record (so
that the ledger sums to Volunteer.confirmed_minutes from the start), and attendance and
service records for the finished demo activities — confirmed, except the most recent
activity's, left pending for the organiser to confirm."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState
from wenming.core import regions as rc
from wenming.core.access import subtree_q
from wenming.core.audit import audit_record
from wenming.network.demo import DEMO_COUNTY
from wenming.network.models import Unit, UnitKind
from wenming.records.hours import service_minutes
from wenming.records.models import Attendance, How, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer
from wenming.volunteers.services import volunteer_hours_changed

DEMO_VERB = "demo.records"
DEMO_VERB_LABEL = pgettext_lazy("audit verb", "加载演示服务记录")
OPENING_CONTENT = "历史服务时长（平台启用前，按原台账导入）"


def seed_records() -> dict[str, int]:
    created = {"opening": 0, "attendances": 0, "records": 0}
    center = Unit.objects.filter(region_id=DEMO_COUNTY, kind=UnitKind.CENTER).first()
    if center is None or ServiceRecord.objects.filter(content=OPENING_CONTENT).exists():
        return created
    now = timezone.now()
    volunteers = Volunteer.objects.filter(
        subtree_q("region_id", rc.prefix_of(DEMO_COUNTY)), confirmed_minutes__gt=0
    ).select_related("unit")
    # Opening balances are service from before the platform started: dated the day
    # before the demo's first activity, never today, where they would fill the daily
    # cap and leave every check-out of the tour at zero.
    first = (
        Activity.objects.filter(subtree_q("region_id", rc.prefix_of(DEMO_COUNTY)))
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    started = timezone.localtime(first).date() if first else timezone.localdate()
    opening_date = min(started, timezone.localdate()) - dt.timedelta(days=1)
    opening = [
        ServiceRecord(
            volunteer=v, unit=v.unit, region_id=v.unit.region_id, date=opening_date,
            place=v.unit.name, content=OPENING_CONTENT, minutes=v.confirmed_minutes,
            status=RecordStatus.CONFIRMED, confirmed_at=now, person_in_charge="平台管理员",
        )
        for v in volunteers
    ]  # fmt: skip
    ServiceRecord.objects.bulk_create(opening)
    created["opening"] = len(opening)
    finished = list(
        Activity.objects.filter(
            subtree_q("region_id", rc.prefix_of(DEMO_COUNTY)), state=ActivityState.FINISHED
        ).order_by("ends_at", "pk")
    )
    for index, activity in enumerate(finished):
        last = index == len(finished) - 1
        signups = SignUp.objects.filter(activity=activity, state=SignUpState.SIGNED_UP)
        for n, signup in enumerate(signups.order_by("pk")):
            checked_in = activity.starts_at - dt.timedelta(minutes=5 + n)
            checked_out = activity.ends_at - dt.timedelta(minutes=10 * (n % 3))
            attendance = Attendance.objects.create(
                activity=activity, volunteer_id=signup.volunteer_id, checked_in_at=checked_in,
                checked_in_how=How.QR, checked_out_at=checked_out, checked_out_how=How.QR,
            )  # fmt: skip
            minutes = service_minutes(
                checked_in_at=checked_in, checked_out_at=checked_out,
                window_start=activity.starts_at, window_end=activity.ends_at,
                cap_per_day=settings.SERVICE_MINUTES_PER_DAY,
            )  # fmt: skip
            confirmed = not last
            ServiceRecord.objects.create(
                volunteer_id=signup.volunteer_id, activity=activity, attendance=attendance,
                unit_id=activity.unit_id, region_id=activity.region_id,
                date=timezone.localtime(activity.starts_at).date(),
                place=activity.address or activity.venue, content=activity.title,
                minutes=minutes,
                status=RecordStatus.CONFIRMED if confirmed else RecordStatus.PENDING,
                confirmed_at=activity.ends_at + dt.timedelta(hours=2) if confirmed else None,
                person_in_charge="活动负责人" if confirmed else "",
            )  # fmt: skip
            if confirmed:
                volunteer_hours_changed(volunteer_id=signup.volunteer_id, delta_minutes=minutes)
            created["attendances"] += 1
            created["records"] += 1
    audit_record(
        actor=None, verb=DEMO_VERB, target=center, region_code=center.region_id, changes=created
    )
    return created
