"""Who may do what to a household: one predicate per action, called by the services
(which enforce it) and by the pages before they show or read a form (so a read-only
supervisor is refused with 403 before anything he sent is validated)."""

from __future__ import annotations

from wenming.accounts.types import Actor, user_id_of
from wenming.core.access import require
from wenming.core.roles import Perm
from wenming.households.models import Assignment, Household


def is_contact_of(actor: Actor, household: Household) -> bool:
    """Whether the actor is a contact person with an open assignment to the household."""
    if not getattr(actor, "is_authenticated", False):
        return False
    return Assignment.objects.filter(
        household_id=household.pk, contact__user_id=user_id_of(actor), ended_at__isnull=True
    ).exists()


def require_manage(actor: Actor, household: Household) -> None:
    """Staff who manage the household's village (404 outside the view scope, 403 for
    a read-only role)."""
    require(actor, Perm.HOUSEHOLD_MANAGE, household.region_id, view_perm=Perm.HOUSEHOLD_VIEW)


def require_contact_or_manage(actor: Actor, household: Household) -> bool:
    """The household's own contact person, or staff who manage its village. Returns
    whether the actor acts as the contact person."""
    if is_contact_of(actor, household):
        return True
    require_manage(actor, household)
    return False
