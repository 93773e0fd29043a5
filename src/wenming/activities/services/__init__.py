"""Writes about activities: create and edit, the state machine, sign-up and cancel.

Every service checks the actor's role and scope, changes state atomically and records an
audit event. Sign-ups lock the activity row (SELECT … FOR UPDATE) before counting, and
the quota counter sits under a CHECK constraint, so that no number of concurrent sign-
ups can hold more places than the quota.

A package by sub-domain: `lifecycle` (the state machine, approval, the clock), `editing`
(create and edit, the approval policy, projects and subcategories), `signup` (sign-up,
the waiting list, cancelling, the calendar feed), `photos` (an activity's photos)."""

from wenming.activities.services.editing import (
    AUDITED_FIELDS,
    PUBLISHED_EDITABLE,
    ActivityInput,
    activity_create,
    activity_update,
    approval_policy_set,
    project_create,
    subcategory_save,
)
from wenming.activities.services.lifecycle import (
    SYSTEM_ACTIONS,
    TRANSITIONS,
    ClockResult,
    S,
    activities_advance_by_clock,
    activity_transition,
    allowed_actions,
    approval_required,
)
from wenming.activities.services.photos import (
    activity_photo_add,
    activity_photo_delete,
)
from wenming.activities.services.signup import (
    calendar_feed_reset,
    signup_cancel,
    signup_create,
)

__all__ = [
    "AUDITED_FIELDS",
    "PUBLISHED_EDITABLE",
    "SYSTEM_ACTIONS",
    "TRANSITIONS",
    "ActivityInput",
    "ClockResult",
    "S",
    "activities_advance_by_clock",
    "activity_create",
    "activity_photo_add",
    "activity_photo_delete",
    "activity_transition",
    "activity_update",
    "allowed_actions",
    "approval_policy_set",
    "approval_required",
    "calendar_feed_reset",
    "project_create",
    "signup_cancel",
    "signup_create",
    "subcategory_save",
]
