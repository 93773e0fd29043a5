"""The demo records: the ledger sums to every demo volunteer's confirmed minutes, the
finished activities have attendance and records (the latest pending), and a second
load changes nothing."""

from __future__ import annotations

from django.db.models import Sum

from wenming.core.demo import demo_load
from wenming.records.models import Attendance, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer


def test_demo_records_keep_the_ledger_invariant(db):
    result = demo_load()["records"]
    assert result["opening"] > 200 and result["records"] == result["attendances"] > 0
    sums = dict(
        ServiceRecord.objects.filter(status=RecordStatus.CONFIRMED)
        .values("volunteer_id")
        .annotate(total=Sum("minutes"))
        .values_list("volunteer_id", "total")
    )
    for volunteer_id, minutes in Volunteer.objects.values_list("id", "confirmed_minutes"):
        assert sums.get(volunteer_id, 0) == minutes
    assert ServiceRecord.objects.filter(status=RecordStatus.PENDING).exists()
    assert ServiceRecord.objects.filter(volunteer__user__isnull=False).exists()
    before = (Attendance.objects.count(), ServiceRecord.objects.count())
    assert demo_load()["records"] == {"opening": 0, "attendances": 0, "records": 0}
    assert (Attendance.objects.count(), ServiceRecord.objects.count()) == before


def test_opening_balances_predate_the_platform(db):
    """Dated the day the demo loads, opening balances filled the daily cap and every
    check-out of the tour recorded 0 minutes."""
    import datetime as dt

    from django.utils import timezone

    from wenming.activities.models import Activity
    from wenming.records.demo import OPENING_CONTENT
    from wenming.records.hours import daily_capped

    demo_load()
    first = timezone.localtime(Activity.objects.order_by("starts_at").first().starts_at).date()
    dates = set(
        ServiceRecord.objects.filter(content=OPENING_CONTENT).values_list("date", flat=True)
    )
    assert dates == {min(first, timezone.localdate()) - dt.timedelta(days=1)}
    busy = list(Volunteer.objects.filter(confirmed_minutes__gt=8 * 60)[:5])
    assert busy
    for v in busy:
        assert daily_capped(volunteer_id=v.pk, day=timezone.localdate(), minutes=120) == (120, 0)
