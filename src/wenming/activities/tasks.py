from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from wenming.activities.services import ClockResult, activities_advance_by_clock


@db_periodic_task(crontab(minute="*/5"))
def advance_activities_by_clock() -> ClockResult:
    """Every 5 minutes: published activities whose start has passed become ongoing,
    ongoing ones whose end has passed become finished."""
    return activities_advance_by_clock()
