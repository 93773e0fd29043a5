from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from wenming.households.services import OverdueResult, overdue_scan


@db_periodic_task(crontab(minute="*/10"))
def households_overdue_alerts() -> OverdueResult:
    """Every 10 minutes: alert contact persons, then stations, about events not
    contacted in time and tagged households not visited within their cadence. Each
    overdue alerts once per level, however often this runs."""
    return overdue_scan()
