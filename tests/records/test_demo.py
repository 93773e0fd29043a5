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
