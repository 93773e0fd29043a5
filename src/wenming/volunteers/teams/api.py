"""The teams API (/api/teams): the same services, scope and rules as the team pages.
Members appear only to those who may see them, with masked numbers only."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.core.errors import RuleViolation
from wenming.volunteers import selectors, teams
from wenming.volunteers.models import Membership, Team, TeamType

router = Router(tags=["teams"])

WRITE_ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class TeamTypeOut(Schema):
    id: int
    name: str


class TeamOut(Schema):
    """What anyone who may see a team sees: no personal data."""

    id: int
    name: str
    team_type_id: int
    team_type_name: str
    unit_id: int
    unit_name: str
    region_code: str
    region_name: str
    is_active: bool
    member_count: int
    confirmed_hours: float

    @staticmethod
    def resolve_team_type_name(obj: Team) -> str:
        return obj.team_type.name

    @staticmethod
    def resolve_unit_name(obj: Team) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_region_code(obj: Team) -> str:
        return obj.region_id

    @staticmethod
    def resolve_region_name(obj: Team) -> str:
        return obj.region.name

    @staticmethod
    def resolve_confirmed_hours(obj: Team) -> float:
        return round((obj.member_minutes or 0) / 60, 1)  # type: ignore[attr-defined]


class TeamMemberOut(Schema):
    """A member as a fellow member sees them: name and role. Leaders and staff also get
    the masked number fields (None otherwise)."""

    membership_id: int
    volunteer_id: int
    name: str
    role: str
    status: str
    number: str | None = None
    phone_masked: str | None = None
    star_level: int | None = None
    confirmed_hours: float | None = None
    requested_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None


class MyMembershipOut(Schema):
    membership_id: int
    role: str
    status: str


class TeamDetailOut(TeamOut):
    description: str
    created_at: dt.datetime
    members: list[TeamMemberOut] | None  # None: not visible to the caller
    pending: list[TeamMemberOut] | None  # open requests, for leaders and staff
    my_membership: MyMembershipOut | None
    can_manage: bool
    can_decide: bool
    can_join: bool


class TeamCreateIn(Schema):
    name: str
    team_type_id: int
    unit_id: int
    description: str = ""


class TeamPatchIn(Schema):
    name: str | None = None
    team_type_id: int | None = None
    unit_id: int | None = None
    description: str | None = None
    is_active: bool | None = None


class ReasonIn(Schema):
    reason: str = ""


class MembershipOut(Schema):
    id: int
    team_id: int
    volunteer_id: int
    role: str
    status: str
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None


def _member(m: Membership, details: bool) -> TeamMemberOut:
    v = m.volunteer
    out = TeamMemberOut(
        membership_id=m.pk, volunteer_id=v.pk, name=v.name, role=m.role, status=m.status
    )
    if details:
        out.number = v.number
        out.phone_masked = v.phone_masked
        out.star_level = v.star_level
        out.confirmed_hours = v.confirmed_hours
        out.requested_at = m.requested_at
        out.decided_at = m.decided_at
    return out


def _detail(request: HttpRequest, team_id: int) -> Team:
    """The team with what the caller may see of its members attached (the schema's
    resolvers read the rest)."""
    team = teams.team_get(actor=request.user, team_id=team_id)
    access = teams.team_access(actor=request.user, team=team)
    details = access.sees_member_details
    mine = access.membership
    extra = {
        "members": [_member(m, details) for m in teams.team_members(access=access)]
        if access.sees_members
        else None,
        "pending": [_member(m, True) for m in teams.team_pending(access=access)]
        if access.can_decide
        else None,
        "my_membership": MyMembershipOut(membership_id=mine.pk, role=mine.role, status=mine.status)
        if mine is not None
        else None,
        "can_manage": access.can_manage,
        "can_decide": access.can_decide,
        "can_join": access.can_join,
    }
    for name, value in extra.items():
        setattr(team, name, value)
    return team


@router.get("/types", response=list[TeamTypeOut])
def list_team_types(request: HttpRequest) -> object:
    return list(TeamType.objects.all())


@router.get("", response=list[TeamOut])
@paginate(Paging)
def list_teams(
    request: HttpRequest,
    q: str = "",
    type: int | None = None,
    region: str = "",
    unit: int | None = None,
) -> object:
    """Teams the caller may see: staff their VOLUNTEER_VIEW scope; a volunteer the
    active teams of their county and their own teams. `q` matches the team's or the
    unit's name."""
    return teams.team_list(
        actor=request.user,
        search=q[:50],
        team_type_id=type,
        region_prefix="".join(c for c in region if c.isascii() and c.isdigit())[:12],
        unit_id=unit,
    )


@router.get("/{team_id}", response={200: TeamDetailOut, 404: ErrorOut})
def get_team(request: HttpRequest, team_id: int) -> object:
    return _detail(request, team_id)


@router.post("", response={201: TeamDetailOut, **WRITE_ERRORS})
def create_team(request: HttpRequest, payload: TeamCreateIn) -> object:
    """Staff with VOLUNTEER_MANAGE over the owning unit's region."""
    team = teams.team_create(actor=request.user, **payload.dict())
    return Status(201, _detail(request, team.pk))


@router.patch("/{team_id}", response={200: TeamDetailOut, **WRITE_ERRORS})
def update_team(request: HttpRequest, team_id: int, payload: TeamPatchIn) -> object:
    team = teams.team_get(actor=request.user, team_id=team_id)
    teams.team_update(actor=request.user, team=team, **payload.dict(exclude_none=True))
    return _detail(request, team_id)


@router.post("/{team_id}/join", response={201: MembershipOut, **WRITE_ERRORS})
def join_team(request: HttpRequest, team_id: int) -> object:
    """The caller (a registered volunteer) asks to join."""
    team = teams.team_get(actor=request.user, team_id=team_id)
    return Status(201, teams.team_join_request(actor=request.user, team=team))


@router.post("/{team_id}/leave", response={200: MembershipOut, **WRITE_ERRORS})
def leave_team(request: HttpRequest, team_id: int, payload: ReasonIn) -> object:
    """The caller leaves the team, or withdraws their pending request."""
    team = teams.team_get(actor=request.user, team_id=team_id)
    access = teams.team_access(actor=request.user, team=team)
    if access.membership is None:
        raise RuleViolation(_("您不在该服务队中。"))
    return teams.team_leave(actor=request.user, membership=access.membership, reason=payload.reason)


@router.post("/memberships/{membership_id}/approve", response={200: MembershipOut, **WRITE_ERRORS})
def approve_membership(request: HttpRequest, membership_id: int) -> object:
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    return teams.membership_approve(actor=request.user, membership=m)


@router.post("/memberships/{membership_id}/reject", response={200: MembershipOut, **WRITE_ERRORS})
def reject_membership(request: HttpRequest, membership_id: int, payload: ReasonIn) -> object:
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    return teams.membership_reject(actor=request.user, membership=m, reason=payload.reason)


@router.post("/memberships/{membership_id}/remove", response={200: MembershipOut, **WRITE_ERRORS})
def remove_membership(request: HttpRequest, membership_id: int, payload: ReasonIn) -> object:
    """A leader removes an ordinary member, staff anyone; the reason is required."""
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    return teams.membership_remove(actor=request.user, membership=m, reason=payload.reason)


class LeaderIn(Schema):
    volunteer_id: int


@router.post("/{team_id}/leaders", response={200: MembershipOut, **WRITE_ERRORS})
def appoint_leader(request: HttpRequest, team_id: int, payload: LeaderIn) -> object:
    """Staff appoint a volunteer (in their scope) as a leader of the team."""
    team = teams.team_get(actor=request.user, team_id=team_id)
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=payload.volunteer_id)
    return teams.leader_appoint(actor=request.user, team=team, volunteer=volunteer)


@router.post(
    "/memberships/{membership_id}/dismiss-leader", response={200: MembershipOut, **WRITE_ERRORS}
)
def dismiss_leader(request: HttpRequest, membership_id: int, payload: ReasonIn) -> object:
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    return teams.leader_dismiss(actor=request.user, membership=m, reason=payload.reason)
