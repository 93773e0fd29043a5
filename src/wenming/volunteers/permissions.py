"""Who may act on a volunteer's record: the predicates the services enforce and the
pages check first, so a read-only role gets 403 before its input is validated."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core.access import has_perm, require
from wenming.core.errors import Forbidden, NotFound
from wenming.core.roles import Perm
from wenming.volunteers.models import Volunteer


def require_manage(actor: Actor, volunteer: Volunteer) -> None:
    """Review, edit, suspend: staff managing the volunteer's region."""
    require(actor, Perm.VOLUNTEER_MANAGE, volunteer.region_id, view_perm=Perm.VOLUNTEER_VIEW)


def require_reveal(actor: Actor, volunteer: Volunteer) -> None:
    """See a full ID or phone number: staff with the reveal permission there."""
    require(actor, Perm.PERSONAL_REVEAL, volunteer.region_id, view_perm=Perm.VOLUNTEER_VIEW)


def require_register_at(actor: Actor, region_code: str) -> None:
    """Register a volunteer on someone's behalf at a region."""
    require(actor, Perm.VOLUNTEER_MANAGE, region_code, view_perm=Perm.VOLUNTEER_VIEW)


def require_register_somewhere(actor: Actor) -> None:
    """Staff registration at all: a role with VOLUNTEER_MANAGE over some region. A
    read-only role is refused (403), anyone else finds nothing (404)."""
    if has_perm(actor, Perm.VOLUNTEER_MANAGE):
        return
    if has_perm(actor, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有权限执行此操作。"))
    raise NotFound(_("找不到该对象，或它不在您的管辖范围内。"))
