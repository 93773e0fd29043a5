"""Reads about teams, scoped to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core.access import in_scope, scope_q, subtree_q
from wenming.core.errors import NotFound
from wenming.core.roles import Perm
from wenming.network.models import Unit
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamType,
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.teams.permissions import OPEN_STATUSES, _own_volunteer, _visible_q

# ---------------------------------------------------------------- selectors


@dataclass(frozen=True)
class TeamAccess:
    """What the actor may see and do on one team page."""

    team: Team
    staff_view: bool  # VOLUNTEER_VIEW over the team's region
    can_manage: bool  # VOLUNTEER_MANAGE over the team's region
    is_leader: bool  # an active leader of this team
    volunteer: Volunteer | None  # the actor's own volunteer record
    membership: Membership | None  # the actor's open (pending or active) membership

    @property
    def can_decide(self) -> bool:
        return self.can_manage or self.is_leader

    @property
    def is_member(self) -> bool:
        return self.membership is not None and self.membership.status == MembershipStatus.ACTIVE

    @property
    def sees_members(self) -> bool:
        return self.staff_view or self.can_decide or self.is_member

    @property
    def sees_member_details(self) -> bool:
        """Masked numbers, stars and hours of the members: staff and leaders only."""
        return self.staff_view or self.can_decide

    @property
    def can_join(self) -> bool:
        return (
            self.team.is_active
            and self.membership is None
            and self.volunteer is not None
            and self.volunteer.status == VolunteerStatus.ACTIVE
        )


def _active_members() -> QuerySet[Membership]:
    return Membership.objects.filter(team_id=OuterRef("pk"), status=MembershipStatus.ACTIVE)


def _with_totals(qs: QuerySet[Team]) -> QuerySet[Team]:
    """Member count and confirmed minutes of active members, as subqueries (no joins that
    would multiply rows, and one query for a whole page)."""
    count = _active_members().order_by().values("team_id").annotate(n=Count("pk")).values("n")
    minutes = (
        _active_members()
        .order_by()
        .values("team_id")
        .annotate(m=Sum("volunteer__confirmed_minutes"))
        .values("m")
    )
    return qs.annotate(
        member_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
        member_minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), Value(0)),
    )


def team_list(
    *,
    actor: Actor,
    search: str = "",
    team_type_id: int | None = None,
    region_prefix: str = "",
    unit_id: int | None = None,
    active_only: bool = False,
) -> QuerySet[Team]:
    """The teams the actor may see (see the module docstring), with `member_count` and
    `member_minutes`. Search: the team's or its unit's name (contains)."""
    qs = Team.objects.filter(_visible_q(actor, _own_volunteer(actor)))
    search = search.strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(unit__name__icontains=search))
    if team_type_id:
        qs = qs.filter(team_type_id=team_type_id)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if active_only:
        qs = qs.filter(is_active=True)
    # By place, then name: a town's teams stand together.
    return _with_totals(qs.select_related("team_type", "unit", "region")).order_by(
        "region_id", "name", "id"
    )


def team_get(*, actor: Actor, team_id: int) -> Team:
    """One team the actor may see, else NotFound (an outsider must not learn it exists)."""
    try:
        return (
            _with_totals(Team.objects.filter(_visible_q(actor, _own_volunteer(actor))))
            .select_related("team_type", "unit", "region")
            .get(pk=team_id)
        )
    except Team.DoesNotExist as exc:
        raise NotFound(_("找不到该服务队，或它不在您的范围内。")) from exc


def team_access(*, actor: Actor, team: Team) -> TeamAccess:
    volunteer = _own_volunteer(actor)
    membership = None
    if volunteer is not None:
        membership = Membership.objects.filter(
            team=team, volunteer=volunteer, status__in=OPEN_STATUSES
        ).first()
    # A deactivated team has no acting leader (volunteers.leaders).
    is_leader = (
        team.is_active
        and membership is not None
        and membership.status == MembershipStatus.ACTIVE
        and membership.role == MembershipRole.LEADER
    )
    return TeamAccess(
        team=team,
        staff_view=in_scope(actor, Perm.VOLUNTEER_VIEW, team.region_id),
        can_manage=in_scope(actor, Perm.VOLUNTEER_MANAGE, team.region_id),
        is_leader=is_leader,
        volunteer=volunteer,
        membership=membership,
    )


def team_members(*, access: TeamAccess) -> QuerySet[Membership]:
    """Active members, leaders first. Empty for someone who may not see them."""
    if not access.sees_members:
        return Membership.objects.none()
    return (
        Membership.objects.filter(team=access.team, status=MembershipStatus.ACTIVE)
        .select_related("volunteer")
        .order_by("role", "volunteer__name", "id")  # "leader" < "member": leaders first
    )


def team_pending(*, access: TeamAccess) -> QuerySet[Membership]:
    """Open join requests, oldest first: for those who decide them."""
    if not access.can_decide:
        return Membership.objects.none()
    return (
        Membership.objects.filter(team=access.team, status=MembershipStatus.PENDING)
        .select_related("volunteer")
        .order_by("requested_at", "id")
    )


def membership_get(*, actor: Actor, membership_id: int) -> Membership:
    """A membership of a team the actor may see, else NotFound."""
    try:
        return Membership.objects.select_related("team", "volunteer").get(
            pk=membership_id,
            team__in=Team.objects.filter(_visible_q(actor, _own_volunteer(actor))),
        )
    except Membership.DoesNotExist as exc:
        raise NotFound(_("找不到该队员记录，或它不在您的范围内。")) from exc


def memberships_of(*, volunteer: Volunteer) -> QuerySet[Membership]:
    """A volunteer's own memberships (all of them: the history is theirs to see)."""
    return (
        Membership.objects.filter(volunteer=volunteer)
        .select_related("team", "team__unit", "team__team_type")
        .order_by("-requested_at", "-id")
    )


def team_types() -> QuerySet[TeamType]:
    return TeamType.objects.all()


def team_units(*, actor: Actor) -> QuerySet[Unit]:
    """The active units under the actor's VOLUNTEER_MANAGE scope: owners a team may have."""
    return (
        Unit.objects.filter(scope_q(actor, Perm.VOLUNTEER_MANAGE, "region_id"), is_active=True)
        .select_related("region")
        .order_by("region_id", "kind", "name")
    )


TEAM_CHOICES_MAX = 500


def team_choices(*, actor: Actor, selected: int | None = None) -> list[tuple[int, str]]:
    """Teams under the actor's VOLUNTEER_VIEW scope for a filter control (one query,
    capped; the selected team is kept when it falls beyond the cap)."""
    qs = Team.objects.filter(scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id")).order_by(
        "name", "id"
    )
    if selected:
        qs = qs.filter(Q(pk__in=qs.values("pk")[:TEAM_CHOICES_MAX]) | Q(pk=selected))
        return list(qs.values_list("pk", "name"))
    return list(qs.values_list("pk", "name")[:TEAM_CHOICES_MAX])


def team_count(actor: Actor) -> int:
    """Active teams under the actor's VOLUNTEER_VIEW scope (the home counter)."""
    return Team.objects.filter(
        scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id"), is_active=True
    ).count()
