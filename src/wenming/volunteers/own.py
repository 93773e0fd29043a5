"""One rule, one place: the actor's own volunteer record (a login has at most one).
Every domain that acts for the volunteer in front of it asks here."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from wenming.accounts.types import Actor, user_id_of
from wenming.core.errors import RuleViolation
from wenming.volunteers.models import Volunteer, VolunteerStatus

NOT_A_VOLUNTEER = _("只有已注册的志愿者可以这样做。")


def volunteer_of(actor: Actor, *, only: tuple[str, ...] = ()) -> Volunteer | None:
    """The logged-in actor's own volunteer record, or None (anonymous, or no record).
    One query, never cached: the status may change between two requests."""
    if not getattr(actor, "is_authenticated", False):
        return None
    volunteers = Volunteer.objects.only(*only) if only else Volunteer.objects.all()
    return volunteers.filter(user_id=user_id_of(actor)).first()


def active_volunteer_of(
    actor: Actor,
    *,
    only: tuple[str, ...] = (),
    missing: str | Promise = NOT_A_VOLUNTEER,
    inactive: str | Promise | None = None,
) -> Volunteer:
    """The actor's own volunteer record, registered and active; else a rule violation
    with `missing` (code not_volunteer), or `inactive` (code not_active) when given."""
    volunteer = volunteer_of(actor, only=only)
    if volunteer is None:
        raise RuleViolation(missing, code="not_volunteer")
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise RuleViolation(inactive or missing, code="not_active" if inactive else "not_volunteer")
    return volunteer
