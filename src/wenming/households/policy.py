"""The settings in force at a place (十必联): how many households a contact person may
take on, how fast each kind of event must be answered, how often tagged households must
be contacted. The nearest policy up the region tree wins over the defaults. Read by the
services, the selectors and the settings pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wenming.core import regions as rc
from wenming.households.models import EventKind, Household, HouseholdPolicy

DEFAULT_ASSIGNMENT_LIMIT = 10
DEFAULT_RESPONSE_HOURS = 72
DEFAULT_RESPONSE_HOURS_BY_KIND: dict[str, int] = {
    EventKind.EMERGENCY: 2,
    EventKind.BEREAVEMENT: 24,
}
DEFAULT_CADENCE_DAYS: dict[str, int] = {"empty_nest": 7}
MAX_RESPONSE_HOURS = 24 * 30
MAX_CADENCE_DAYS = 365


@dataclass(frozen=True)
class Policy:
    """The settings in force at a place: the nearest policy up the tree over defaults."""

    assignment_limit: int
    response_hours: dict[str, int]
    cadence_days: dict[str, int]

    def response_limit(self, kind: str) -> dt.timedelta:
        return dt.timedelta(hours=self.response_hours.get(kind, DEFAULT_RESPONSE_HOURS))


def default_policy() -> Policy:
    hours = {k: DEFAULT_RESPONSE_HOURS_BY_KIND.get(k, DEFAULT_RESPONSE_HOURS) for k in EventKind}
    return Policy(
        DEFAULT_ASSIGNMENT_LIMIT, {str(k): v for k, v in hours.items()}, dict(DEFAULT_CADENCE_DAYS)
    )


def policy_for(region_code: str) -> Policy:
    codes = [*rc.ancestors_of(region_code), region_code]
    policies = {p.region_id: p for p in HouseholdPolicy.objects.filter(region_id__in=codes)}
    base = default_policy()
    for code in reversed(codes):
        if code in policies:
            p = policies[code]
            return Policy(
                p.assignment_limit,
                base.response_hours | {k: int(v) for k, v in p.response_hours.items()},
                {k: int(v) for k, v in p.cadence_days.items()}
                if p.cadence_days
                else base.cadence_days,
            )
    return base


def care_due_at(household: Household, cadence_days: int) -> dt.datetime:
    since = household.last_contact_at or household.created_at
    return since + dt.timedelta(days=cadence_days)


def household_cadence(household: Household, policy: Policy) -> int | None:
    """The shortest cadence among the household's tags (prefetched), or None."""
    days = [
        policy.cadence_days[t.code] for t in household.tags.all() if t.code in policy.cadence_days
    ]
    return min(days) if days else None
