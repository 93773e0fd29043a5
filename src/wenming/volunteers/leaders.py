"""One rule, one place: which teams an actor actively leads. An active leader membership
of an active team; a deactivated team has no leader who may act for it (confirm its
service records, take its orders, answer for it). Every domain asks here."""

from __future__ import annotations

from django.db.models import QuerySet

from wenming.accounts.types import Actor, user_id_of
from wenming.volunteers.models import Membership, MembershipRole, MembershipStatus


def active_leaderships() -> QuerySet[Membership]:
    """Every membership that makes its volunteer a team's acting leader."""
    return Membership.objects.filter(
        role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE, team__is_active=True
    )


def teams_led_by(actor: Actor) -> QuerySet[Membership, int]:
    """The team ids (a subquery) the actor actively leads; none for anonymous."""
    user_id = user_id_of(actor)
    return active_leaderships().filter(volunteer__user_id=user_id).values_list("team_id", flat=True)


def leads_team(actor: Actor, team_id: int | None) -> bool:
    """Whether the actor actively leads the team (an active team)."""
    if team_id is None or not getattr(actor, "is_authenticated", False):
        return False
    return (
        active_leaderships().filter(team_id=team_id, volunteer__user_id=user_id_of(actor)).exists()
    )


def leader_user_ids(team_id: int) -> QuerySet[Membership, int]:
    """The logins of the team's acting leaders (none while the team is deactivated)."""
    return (
        active_leaderships()
        .filter(team_id=team_id, volunteer__user__isnull=False)
        .values_list("volunteer__user_id", flat=True)
    )
