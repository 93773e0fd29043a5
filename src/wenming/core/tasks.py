from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from wenming.core.maintenance import PurgeResult, purge_expired_sessions_and_lockouts


@db_periodic_task(crontab(minute="17"))
def purge_sessions_and_lockouts() -> PurgeResult:
    """Hourly: expired sessions and stale login-lockout records."""
    return purge_expired_sessions_and_lockouts()
