"""Shared helpers for the activity tests: an activity factory and volunteers with logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.conftest import make_user
from tests.volunteers.test_services import register
from wenming.accounts.models import User
from wenming.activities import services
from wenming.activities.models import Activity, ActivityApprovalPolicy, ActivityState, WorkItem
from wenming.core.models import AuditEvent
from wenming.volunteers.models import Volunteer


def activity_input(unit: Any, **overrides: Any) -> services.ActivityInput:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=3)
    values: dict[str, Any] = {
        "title": "马庄村环境整治",
        "work_item": WorkItem.CUSTOMS,
        "unit_id": unit.pk,
        "venue": "马庄村村口",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "quota": 3,
    }
    values.update(overrides)
    return services.ActivityInput(**values)


def make_activity(actor: Any, unit: Any, state: str = "", **overrides: Any) -> Activity:
    activity = services.activity_create(actor=actor, data=activity_input(unit, **overrides))
    if state:
        Activity.objects.filter(pk=activity.pk).update(state=state)
        activity.refresh_from_db()
    return activity


def published(actor: Any, unit: Any, **overrides: Any) -> Activity:
    return make_activity(actor, unit, ActivityState.PUBLISHED, **overrides)


def require_approval(unit: Any, required: bool = True) -> None:
    ActivityApprovalPolicy.objects.update_or_create(
        unit=unit, defaults={"approval_required": required}
    )


def volunteer_user(staff: Any, n: int) -> User:
    """A user with an active volunteer record (registered by staff, then linked)."""
    phone = f"1381234{n:04d}"
    user = make_user(phone, f"志愿者{n}")
    volunteer = register(staff, n, phone=phone)
    Volunteer.objects.filter(pk=volunteer.pk).update(user=user)
    return user


def audit_count() -> int:
    return AuditEvent.objects.count()
