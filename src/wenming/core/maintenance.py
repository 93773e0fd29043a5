"""Housekeeping that the periodic jobs run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from wenming.core.audit import audit_record


@dataclass(frozen=True)
class PurgeResult:
    sessions: int
    lockouts: int


@transaction.atomic
def purge_expired_sessions_and_lockouts(*, now: dt.datetime | None = None) -> PurgeResult:
    """Delete sessions past their expiry and login-failure records older than the
    lockout cool-off (they can no longer lock anyone out)."""
    now = now or timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    cool_off = get_cool_off() or dt.timedelta(hours=1)
    lockouts, _ = AccessAttempt.objects.filter(attempt_time__lt=now - cool_off).delete()
    if sessions or lockouts:
        audit_record(
            actor=None,
            verb="maintenance.purge",
            target=None,
            region_code="",
            changes={"sessions": sessions, "lockouts": lockouts},
        )
    return PurgeResult(sessions, lockouts)
