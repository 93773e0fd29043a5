"""Shared helpers for the household register tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.activities.helpers import volunteer_user
from tests.shared import rows
from wenming.households import services
from wenming.households.models import (
    Assignment,
    ContactPerson,
    EventEntry,
    Household,
    HouseholdEvent,
    HouseholdMember,
    OverdueAlert,
    Visit,
)

VILLAGE = "320305005204"  # 马庄村委会 (the station admin's village)
VILLAGE2 = "320305005200"  # 唐庄村委会 (same town, another station)
T0 = dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC)  # 09:00 Beijing time


def household(
    staff: Any,
    n: int = 0,
    *,
    region: str = VILLAGE,
    tags: tuple[str, ...] = (),
    members: list[services.MemberInput] | None = None,
) -> Household:
    if members is None:
        members = [services.MemberInput(f"王大{n}", "head", 1950, f"1351234{n:04d}")]
    return services.household_create(
        actor=staff,
        data=services.HouseholdInput(
            region_code=region, address=f"马庄村{n}组{n}号", tag_codes=tags, members=members
        ),
    )


def contact(staff: Any, n: int = 0, *, region: str = VILLAGE) -> ContactPerson:
    user = volunteer_user(staff, 100 + n)
    return services.contact_person_add(actor=staff, user=user, region_code=region)


def state() -> tuple[Any, ...]:
    """Everything the register's services write (a refusal must change none of it)."""
    return rows(
        Household, HouseholdMember, ContactPerson, Assignment, HouseholdEvent, EventEntry,
        Visit, OverdueAlert,
    )  # fmt: skip
