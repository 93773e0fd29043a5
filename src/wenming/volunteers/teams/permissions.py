"""Who the actor is to a team: staff over its region, its active leader, a member, or
nobody (404)."""

from __future__ import annotations

from typing import NoReturn

from django.db.models import (
    Q,
)
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import regions as rc
from wenming.core.access import in_scope, scope_q, subtree_q
from wenming.core.errors import Forbidden, NotFound
from wenming.core.roles import Perm
from wenming.volunteers.leaders import leads_team
from wenming.volunteers.models import (
    Membership,
    MembershipStatus,
    Team,
    Volunteer,
)
from wenming.volunteers.own import volunteer_of

OPEN_STATUSES = (MembershipStatus.PENDING, MembershipStatus.ACTIVE)
NAME_MAX = 100
REASON_MAX = 200


# ---------------------------------------------------------------- who the actor is


def _own_volunteer(actor: Actor) -> Volunteer | None:
    return volunteer_of(actor, only=("pk", "region_id", "status"))


def _visible_q(actor: Actor, volunteer: Volunteer | None) -> Q:
    """The teams an actor may see: staff scope, plus (for a volunteer) the active teams of
    their county and every team they have ever had a membership of."""
    query = scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id")
    if volunteer is not None:
        county = subtree_q("region_id", rc.county_prefix(volunteer.region_id))
        query |= county & Q(is_active=True)
        query |= Q(pk__in=Membership.objects.filter(volunteer=volunteer).values("team_id"))
    return query


def _is_active_leader(actor: Actor, team: Team) -> bool:
    return leads_team(actor, team.pk)


def _refuse(actor: Actor, team: Team) -> NoReturn:
    """Raise the right refusal: 403 to someone who can see the team, else 404."""
    if Team.objects.filter(_visible_q(actor, _own_volunteer(actor)), pk=team.pk).exists():
        raise Forbidden(_("您没有权限执行此操作。"))
    raise NotFound(_("找不到该服务队，或它不在您的范围内。"))


def _require_manage(actor: Actor, team: Team) -> None:
    if not in_scope(actor, Perm.VOLUNTEER_MANAGE, team.region_id):
        _refuse(actor, team)


def _require_decider(actor: Actor, team: Team) -> bool:
    """An active leader of the team, or staff managing its region. Returns whether the
    actor is staff (staff may also act on leaders)."""
    if in_scope(actor, Perm.VOLUNTEER_MANAGE, team.region_id):
        return True
    if _is_active_leader(actor, team):
        return False
    _refuse(actor, team)
