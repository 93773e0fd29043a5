"""Service minutes, computed on the server from attendance.

Time counted is check-out minus check-in clamped to the activity's window (travel
before and after is not service), split per local calendar day (Asia/Shanghai) with
each day capped, and zero without a check-out or when check-out is not after check-in."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


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
