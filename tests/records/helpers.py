"""Shared helpers for the records tests: an ongoing activity with signed-up volunteers,
a frozen clock, tokens, and a snapshot of everything a refused write must not change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import F

from tests.activities.helpers import make_activity, volunteer_user
from tests.shared import rows
from wenming.accounts.models import User
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState
from wenming.records.checkin import token_for
from wenming.records.models import Attendance, CorrectionRequest, ServiceRecord
from wenming.volunteers.models import Volunteer

# 09:00–12:00 Beijing time on a Saturday; tests travel around it with time-machine.
START = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=3)
LAT, LNG = Decimal("34.442000"), Decimal("117.453000")


def activity(staff: Any, unit: Any, **overrides: Any) -> Activity:
    values: dict[str, Any] = {"starts_at": START, "ends_at": END, "quota": 10}
    values.update(overrides)
    return make_activity(staff, unit, ActivityState.ONGOING, **values)


def sign_up(activity: Activity, user: User, state: str = SignUpState.SIGNED_UP) -> SignUp:
    volunteer = Volunteer.objects.get(user=user)
    position = 1 if state == SignUpState.WAITLISTED else None
    signup = SignUp.objects.create(
        activity=activity, volunteer=volunteer, state=state, position=position
    )
    if state == SignUpState.SIGNED_UP:
        Activity.objects.filter(pk=activity.pk).update(signed_up_count=F("signed_up_count") + 1)
    return signup


def signed_up_volunteer(staff: Any, activity: Activity, n: int) -> User:
    user = volunteer_user(staff, n)
    sign_up(activity, user)
    return user


def token(activity: Activity, at: dt.datetime) -> str:
    return token_for(activity.pk, at)


def state() -> tuple[Any, ...]:
    """Everything the records services write, to assert that a refusal changed nothing."""
    return rows(
        Attendance,
        ServiceRecord,
        CorrectionRequest,
        Volunteer.objects.values("id", "confirmed_minutes", "star_level"),
    )
