"""Service minutes, computed on the server from attendance.

Time counted is check-out minus check-in clamped to the activity's window (travel
before and after is not service), split per local calendar day (Asia/Shanghai) with
each day capped, and zero without a check-out or when check-out is not after check-in.
`daily_capped` applies the cap across a volunteer's records of one day."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from wenming.records.models import RecordStatus, ServiceRecord


def service_minutes(
    *,
    checked_in_at: dt.datetime,
    checked_out_at: dt.datetime | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    cap_per_day: int,
) -> int:
    if checked_out_at is None:
        return 0
    start = max(checked_in_at, window_start)
    end = min(checked_out_at, window_end)
    if end <= start:
        return 0
    tz = timezone.get_default_timezone()
    total = 0
    cursor = start
    while cursor < end:
        local = cursor.astimezone(tz)
        next_midnight = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz
        )
        piece_end = min(end, next_midnight)
        total += min(int((piece_end - cursor).total_seconds()) // 60, cap_per_day)
        cursor = piece_end
    return total


def daily_capped(*, volunteer_id: int, day: dt.date, minutes: int) -> tuple[int, int]:
    """`minutes` of service on `day` as the ledger may count them, and what the daily
    cap (SERVICE_MINUTES_PER_DAY, per volunteer) cuts: the volunteer's other live
    records of that day count first (reversals and replacements net out)."""
    counted = ServiceRecord.objects.filter(
        volunteer_id=volunteer_id,
        date=day,
        status__in=[RecordStatus.PENDING, RecordStatus.CONFIRMED],
    ).aggregate(total=Sum("minutes"))["total"]
    kept = min(minutes, max(0, settings.SERVICE_MINUTES_PER_DAY - (counted or 0)))
    return kept, minutes - kept
