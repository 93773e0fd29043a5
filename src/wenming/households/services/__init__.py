"""Writes of the household contact register (十必联).

Every service checks the actor's role and scope (HOUSEHOLD_MANAGE over the household's
village, or being the household's contact person where the rule allows it), changes
state atomically and records an audit event that never holds a plaintext name or phone.

A package by sub-domain: `register` (the settings in force, households and their
members, contact persons and assignments), `events` (the ten events, their timeline and
turning one into a resident order), `care` (contacts and visits, overdue alerts)."""

from wenming.households.services.care import (
    FUTURE_SLACK,
    OverdueResult,
    overdue_scan,
    visit_log,
)
from wenming.households.services.events import (
    REPORTS_PER_CODE_PER_HOUR,
    REPORTS_PER_IP_PER_HOUR,
    contacts_of,
    event_cancel,
    event_report,
    event_report_by_household,
    household_event_to_order,
)
from wenming.households.services.register import (
    REVEALABLE,
    HouseholdInput,
    MemberInput,
    assignment_create,
    assignment_end,
    clean_member,
    contact_person_add,
    contact_person_add_by_phone,
    household_create,
    household_policy_set,
    household_update,
    member_add,
    member_remove,
    member_reveal,
    report_code_reset,
)

__all__ = [
    "FUTURE_SLACK",
    "REPORTS_PER_CODE_PER_HOUR",
    "REPORTS_PER_IP_PER_HOUR",
    "REVEALABLE",
    "HouseholdInput",
    "MemberInput",
    "OverdueResult",
    "assignment_create",
    "assignment_end",
    "clean_member",
    "contact_person_add",
    "contact_person_add_by_phone",
    "contacts_of",
    "event_cancel",
    "event_report",
    "event_report_by_household",
    "household_create",
    "household_event_to_order",
    "household_policy_set",
    "household_update",
    "member_add",
    "member_remove",
    "member_reveal",
    "overdue_scan",
    "report_code_reset",
    "visit_log",
]
