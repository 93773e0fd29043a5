"""Writes about volunteers: registration, review, revealing personal data, star levels.

Each service checks the actor's role and scope, changes state atomically and records an
audit event that never contains a plaintext ID or phone number.

A package: `registration` (one registration's rules, shared with the Excel import;
registering; review; the registration policy), `profile` (editing, revealing a number,
suspending and restoring), `stars` (star levels kept with confirmed hours)."""

from wenming.volunteers.services.profile import (
    REVEALABLE,
    SELF_EDITABLE,
    STAFF_EDITABLE,
    volunteer_reveal,
    volunteer_set_active,
    volunteer_update,
)
from wenming.volunteers.services.registration import (
    ADULT_AGE,
    DB_LOOKUPS,
    ID_NOT_ACCEPTED,
    RegistrationInput,
    RegistrationLookups,
    registering_unit,
    registration_clean,
    registration_policy_set,
    volunteer_register,
    volunteer_review,
)
from wenming.volunteers.services.stars import (
    star_policy_set,
    stars_recompute,
    volunteer_hours_changed,
)

__all__ = [
    "ADULT_AGE",
    "DB_LOOKUPS",
    "ID_NOT_ACCEPTED",
    "REVEALABLE",
    "SELF_EDITABLE",
    "STAFF_EDITABLE",
    "RegistrationInput",
    "RegistrationLookups",
    "registering_unit",
    "registration_clean",
    "registration_policy_set",
    "star_policy_set",
    "stars_recompute",
    "volunteer_hours_changed",
    "volunteer_register",
    "volunteer_reveal",
    "volunteer_review",
    "volunteer_set_active",
    "volunteer_update",
]
