from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from wenming.core.jobs import JobPurgeResult, purge_old_jobs_and_uploads
from wenming.core.maintenance import PurgeResult, purge_expired_sessions_and_lockouts


@db_periodic_task(crontab(minute="17"))
def purge_sessions_and_lockouts() -> PurgeResult:
    """Hourly: expired sessions and stale login-lockout records."""
    return purge_expired_sessions_and_lockouts()


@db_periodic_task(crontab(minute="47"))
def purge_jobs_and_uploads() -> JobPurgeResult:
    """Hourly: uploaded files past their day and finished jobs past their month."""
    return purge_old_jobs_and_uploads()


@db_periodic_task(crontab(hour="2", minute="5"))
def ledger_checkpoints() -> int:
    """Daily: sign the head of every ledger chain that moved (core.checkpoints)."""
    from wenming.core import checkpoints, registry

    signed = 0
    for model in registry.ledgers():
        for chain in checkpoints.chains(model):
            signed += checkpoints.checkpoint(model, chain) is not None
    return signed
