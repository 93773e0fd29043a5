"""Volunteer teams (志愿服务队): services (writes) and selectors (reads).

Who may do what, and why:

- **Staff** see the teams under their VOLUNTEER_VIEW prefixes and create, edit, appoint
  and dismiss leaders, decide requests and remove members under their VOLUNTEER_MANAGE
  prefixes (a team's region is its owning unit's, copied onto the team).
- **A team's active leader** decides join requests and removes ordinary members of
  that team only. Leadership is a `Membership` with role `leader`, not a staff grant: it
  gives no access to other volunteers' records. Only staff remove a leader.
- **A volunteer** (no staff role needed) must be able to find a team to join: they see
  the active teams of their own county and any team they have a membership of — the
  team's name, type, unit, member count and hours, never other members' personal data.
  An active member sees the names and roles of the team's members (they serve together);
  leaders and staff also see masked numbers and hours.
- Anyone else: the team does not exist for them (404). Someone who can see a team but
  may not change it gets 403.

Every write runs in one transaction, checks the actor in the service (not only in the
view) and records an audit event. Rows whose state changes are locked first
(`select_for_update`); "one open membership per team and volunteer" is the database's
partial unique constraint, never a check-then-act."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
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
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.core import regions as rc
from wenming.core.access import in_scope, scope_q, subtree_q
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
from wenming.network.models import Unit
from wenming.volunteers.leaders import leads_team
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamType,
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.own import volunteer_of

OPEN_STATUSES = (MembershipStatus.PENDING, MembershipStatus.ACTIVE)
NAME_MAX = 100
REASON_MAX = 200


# ---------------------------------------------------------------- who the actor is


def _own_volunteer(actor: Any) -> Volunteer | None:
    return volunteer_of(actor, only=("pk", "region_id", "status"))


def _visible_q(actor: Any, volunteer: Volunteer | None) -> Q:
    """The teams an actor may see: staff scope, plus (for a volunteer) the active teams of
    their county and every team they have ever had a membership of."""
    query = scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id")
    if volunteer is not None:
        county = subtree_q("region_id", rc.county_prefix(volunteer.region_id))
        query |= county & Q(is_active=True)
        query |= Q(pk__in=Membership.objects.filter(volunteer=volunteer).values("team_id"))
    return query


def _is_active_leader(actor: Any, team: Team) -> bool:
    return leads_team(actor, team.pk)


def _refuse(actor: Any, team: Team) -> NoReturn:
    """Raise the right refusal: 403 to someone who can see the team, else 404."""
    if Team.objects.filter(_visible_q(actor, _own_volunteer(actor)), pk=team.pk).exists():
        raise Forbidden(_("您没有权限执行此操作。"))
    raise NotFound(_("找不到该服务队，或它不在您的范围内。"))


def _require_manage(actor: Any, team: Team) -> None:
    if not in_scope(actor, Perm.VOLUNTEER_MANAGE, team.region_id):
        _refuse(actor, team)


def _require_decider(actor: Any, team: Team) -> bool:
    """An active leader of the team, or staff managing its region. Returns whether the
    actor is staff (staff may also act on leaders)."""
    if in_scope(actor, Perm.VOLUNTEER_MANAGE, team.region_id):
        return True
    if _is_active_leader(actor, team):
        return False
    _refuse(actor, team)


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
    actor: Any,
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


def team_get(*, actor: Any, team_id: int) -> Team:
    """One team the actor may see, else NotFound (an outsider must not learn it exists)."""
    try:
        return (
            _with_totals(Team.objects.filter(_visible_q(actor, _own_volunteer(actor))))
            .select_related("team_type", "unit", "region")
            .get(pk=team_id)
        )
    except Team.DoesNotExist as exc:
        raise NotFound(_("找不到该服务队，或它不在您的范围内。")) from exc


def team_access(*, actor: Any, team: Team) -> TeamAccess:
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


def membership_get(*, actor: Any, membership_id: int) -> Membership:
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


def team_units(*, actor: Any) -> QuerySet[Unit]:
    """The active units under the actor's VOLUNTEER_MANAGE scope: owners a team may have."""
    return (
        Unit.objects.filter(scope_q(actor, Perm.VOLUNTEER_MANAGE, "region_id"), is_active=True)
        .select_related("region")
        .order_by("region_id", "kind", "name")
    )


TEAM_CHOICES_MAX = 500


def team_choices(*, actor: Any, selected: int | None = None) -> list[tuple[int, str]]:
    """Teams under the actor's VOLUNTEER_VIEW scope for a filter control (one query,
    capped; the selected team is kept when it falls beyond the cap)."""
    qs = Team.objects.filter(scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id")).order_by(
        "name", "id"
    )
    if selected:
        qs = qs.filter(Q(pk__in=qs.values("pk")[:TEAM_CHOICES_MAX]) | Q(pk=selected))
        return list(qs.values_list("pk", "name"))
    return list(qs.values_list("pk", "name")[:TEAM_CHOICES_MAX])


def team_count(actor: Any) -> int:
    """Active teams under the actor's VOLUNTEER_VIEW scope (the home counter)."""
    return Team.objects.filter(
        scope_q(actor, Perm.VOLUNTEER_VIEW, "region_id"), is_active=True
    ).count()


# ---------------------------------------------------------------- services: teams


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("请填写服务队名称。"), field="name")
    if len(name) > NAME_MAX:
        raise RuleViolation(_("服务队名称最多 100 个字。"), field="name")
    return name


def _team_type(team_type_id: Any) -> TeamType:
    try:
        return TeamType.objects.get(pk=int(team_type_id))
    except (TeamType.DoesNotExist, TypeError, ValueError) as exc:
        raise RuleViolation(_("请选择服务队类型。"), field="team_type") from exc


def _owner_unit(actor: Any, unit_id: Any) -> Unit:
    """The owning unit: an active unit under the actor's VOLUNTEER_MANAGE scope."""
    try:
        unit = Unit.objects.select_related("region").get(pk=int(unit_id))
    except (Unit.DoesNotExist, TypeError, ValueError) as exc:
        raise RuleViolation(_("请选择所属单位。"), field="unit") from exc
    if not in_scope(actor, Perm.VOLUNTEER_MANAGE, unit.region_id):
        if in_scope(actor, Perm.VOLUNTEER_VIEW, unit.region_id):
            raise Forbidden(_("您没有权限在该单位下管理服务队。"))
        raise NotFound(_("找不到该单位，或它不在您的管辖范围内。"))
    if not unit.is_active:
        raise RuleViolation(_("该单位已停用，不能新建服务队。"), field="unit")
    return unit


def _save_team(team: Team) -> None:
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError as exc:  # team_unique_name_per_unit, also under concurrency
        raise RuleViolation(_("该单位已有同名的服务队。"), field="name") from exc


TEAM_AUDITED = ("name", "team_type_id", "unit_id", "description", "is_active")


def _team_snapshot(team: Team) -> dict[str, Any]:
    return {f: getattr(team, f) for f in TEAM_AUDITED}


@transaction.atomic
def team_create(
    *, actor: Any, name: str, team_type_id: int, unit_id: int, description: str = ""
) -> Team:
    """Create a team owned by a practice unit. Rules: staff with VOLUNTEER_MANAGE over the
    unit's region; an active unit; a name unique within the unit."""
    unit = _owner_unit(actor, unit_id)
    team = Team(
        name=_clean_name(name),
        team_type=_team_type(team_type_id),
        unit=unit,
        region_id=unit.region_id,
        description=clean_text(
            description, field="description", label=_("简介"), max_length=DESCRIPTION_MAX
        ),
    )
    _save_team(team)
    audit_record(
        actor=actor,
        verb="team.create",
        target=team,
        region_code=team.region_id,
        changes={k: [None, v] for k, v in _team_snapshot(team).items()},
    )
    return team


@transaction.atomic
def team_update(*, actor: Any, team: Team, **fields: Any) -> Team:
    """Edit a team: name, type, owning unit, description, active. Staff with
    VOLUNTEER_MANAGE over the team's region (and over the new unit's, when it moves).
    A deactivated team keeps its members and history; it takes no new requests."""
    allowed = {"name", "team_type_id", "unit_id", "description", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise RuleViolation(_("不能修改这些信息：%(f)s") % {"f": ", ".join(sorted(unknown))})
    _require_manage(actor, team)
    locked = Team.objects.select_for_update().get(pk=team.pk)
    before = _team_snapshot(locked)
    if "name" in fields:
        locked.name = _clean_name(fields["name"])
    if "team_type_id" in fields:
        locked.team_type = _team_type(fields["team_type_id"])
    if "unit_id" in fields and str(fields["unit_id"]) != str(locked.unit_id):
        unit = _owner_unit(actor, fields["unit_id"])
        locked.unit = unit
        locked.region_id = unit.region_id
    if "description" in fields:
        locked.description = clean_text(
            fields["description"], field="description", label=_("简介"), max_length=DESCRIPTION_MAX
        )
    if "is_active" in fields:
        locked.is_active = bool(fields["is_active"])
    _save_team(locked)
    changes = {
        k: [v, after] for k, v in before.items() if (after := _team_snapshot(locked)[k]) != v
    }
    if changes:
        audit_record(
            actor=actor,
            verb="team.update",
            target=locked,
            region_code=locked.region_id,
            changes=changes,
        )
    return locked


# ---------------------------------------------------------------- services: membership


def _audit_membership(
    actor: Any, verb: str, m: Membership, before: dict[str, str], note: str = ""
) -> None:
    after = {"status": m.status, "role": m.role}
    audit_record(
        actor=actor,
        verb=verb,
        target=m.team,
        region_code=m.team.region_id,
        changes={
            "membership": m.pk,
            "volunteer": m.volunteer.number or m.volunteer_id,
            **{k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        },
        note=note,
    )


def _lock(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team", "volunteer")
        .get(pk=membership.pk)
    )


@transaction.atomic
def team_join_request(*, actor: Any, team: Team) -> Membership:
    """A volunteer asks to join a team, for themself. Rules: a registered (active)
    volunteer; a team they can find (their county's, see the module docstring) that is
    active; one open request or membership per team — the partial unique constraint
    decides, also when the same request arrives twice at once."""
    volunteer = _own_volunteer(actor)
    if volunteer is None:
        raise RuleViolation(_("请先注册成为志愿者，再申请加入服务队。"))
    is_active = (
        Team.objects.filter(_visible_q(actor, volunteer), pk=team.pk)
        .values_list("is_active", flat=True)
        .first()
    )  # read here, not from the caller's possibly stale object
    if is_active is None:
        raise NotFound(_("找不到该服务队，或它不在您的范围内。"))
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise RuleViolation(_("您的志愿者注册审核通过后，才能申请加入服务队。"))
    if not is_active:
        raise RuleViolation(_("该服务队已停用，不能申请加入。"))
    membership = Membership(team=team, volunteer=volunteer)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:
        raise RuleViolation(_("您已申请加入该服务队，或已经是队员。")) from exc
    membership.volunteer = Volunteer.objects.only("pk", "number").get(pk=volunteer.pk)
    _audit_membership(actor, "team.join_request", membership, {})
    return membership


@transaction.atomic
def membership_approve(*, actor: Any, membership: Membership) -> Membership:
    """Approve a pending request: an active leader of the team, or staff managing its
    region. Only a pending request, of a volunteer who is still registered (active)."""
    _require_decider(actor, membership.team)
    locked = _lock(membership)
    if locked.status != MembershipStatus.PENDING:
        raise RuleViolation(_("该申请已经处理过了。"))
    if locked.volunteer.status != VolunteerStatus.ACTIVE:
        raise RuleViolation(_("该志愿者当前不是已注册状态，不能入队。"))
    if not locked.team.is_active:
        raise RuleViolation(_("该服务队已停用，不能批准入队。"))
    before = {"status": locked.status, "role": locked.role}
    locked.status = MembershipStatus.ACTIVE
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["status", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_approve", locked, before)
    return locked


@transaction.atomic
def membership_reject(*, actor: Any, membership: Membership, reason: str = "") -> Membership:
    """Decline a pending request (an active leader, or staff); the reason is optional and
    shown to the volunteer."""
    _require_decider(actor, membership.team)
    locked = _lock(membership)
    if locked.status != MembershipStatus.PENDING:
        raise RuleViolation(_("该申请已经处理过了。"))
    before = {"status": locked.status, "role": locked.role}
    locked.status = MembershipStatus.REJECTED
    locked.reason = (reason or "").strip()[:REASON_MAX]
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_reject", locked, before, locked.reason)
    return locked


@transaction.atomic
def team_leave(*, actor: Any, membership: Membership, reason: str = "") -> Membership:
    """The member leaves (or withdraws a pending request): the member themself only.
    The row stays (status 已退出) so that the team keeps its history."""
    if membership.volunteer.user_id is None or membership.volunteer.user_id != getattr(
        actor, "pk", None
    ):
        _refuse(actor, membership.team)
    locked = _lock(membership)
    if locked.status not in OPEN_STATUSES:
        raise RuleViolation(_("您已不在该服务队中。"))
    before = {"status": locked.status, "role": locked.role}
    locked.status = MembershipStatus.LEFT
    locked.reason = (reason or "").strip()[:REASON_MAX]
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.leave", locked, before, locked.reason)
    return locked


@transaction.atomic
def membership_remove(*, actor: Any, membership: Membership, reason: str) -> Membership:
    """Remove an active member, with a reason (required, kept on the row and in the
    audit log). A leader removes ordinary members of their team; only staff managing the
    region remove a leader. Leaders leave by themselves rather than remove themselves."""
    is_staff = _require_decider(actor, membership.team)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("请写明移出原因。"), field="reason")
    locked = _lock(membership)
    if locked.status != MembershipStatus.ACTIVE:
        raise RuleViolation(_("只能移出在队的队员。"))
    if locked.role == MembershipRole.LEADER and not is_staff:
        raise Forbidden(_("队长只能由实践站（所）管理人员移出。"))
    before = {"status": locked.status, "role": locked.role}
    locked.status = MembershipStatus.REMOVED
    locked.reason = reason[:REASON_MAX]
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_remove", locked, before, locked.reason)
    return locked


@transaction.atomic
def leader_appoint(*, actor: Any, team: Team, volunteer: Volunteer) -> Membership:
    """Make a volunteer a leader of the team (staff managing the team's region; the
    volunteer must be registered and inside the actor's VOLUNTEER_VIEW scope). A member
    becomes leader on their membership; a pending request is approved as leader; anyone
    else joins as leader. A team may have more than one leader (队长、副队长)."""
    _require_manage(actor, team)
    if not in_scope(actor, Perm.VOLUNTEER_VIEW, volunteer.region_id):
        raise NotFound(_("找不到该志愿者，或其不在您的管辖范围内。"))
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise RuleViolation(_("该志愿者当前不是已注册状态，不能担任队长。"))
    if not team.is_active:
        raise RuleViolation(_("该服务队已停用。"))
    existing = (
        Membership.objects.select_for_update()
        .filter(team=team, volunteer=volunteer, status__in=OPEN_STATUSES)
        .first()
    )
    now = timezone.now()
    if existing is None:
        membership = Membership(
            team=team,
            volunteer=volunteer,
            role=MembershipRole.LEADER,
            status=MembershipStatus.ACTIVE,
            decided_at=now,
            decided_by=actor,
        )
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as exc:
            raise RuleViolation(_("该志愿者的入队申请正在处理，请稍后再试。")) from exc
        before: dict[str, str] = {}
    else:
        if existing.role == MembershipRole.LEADER and existing.status == MembershipStatus.ACTIVE:
            raise RuleViolation(_("该志愿者已经是队长。"))
        membership = existing
        before = {"status": membership.status, "role": membership.role}
        membership.role = MembershipRole.LEADER
        membership.status = MembershipStatus.ACTIVE
        membership.decided_at = now
        membership.decided_by = actor
        membership.save(update_fields=["role", "status", "decided_at", "decided_by"])
    membership.team = team
    membership.volunteer = volunteer
    _audit_membership(actor, "team.leader_appoint", membership, before)
    return membership


@transaction.atomic
def leader_dismiss(*, actor: Any, membership: Membership, reason: str = "") -> Membership:
    """End a leader's leadership (staff managing the team's region). They stay in the
    team as a member, and the membership row and the audit log keep the history."""
    _require_manage(actor, membership.team)
    locked = _lock(membership)
    if locked.role != MembershipRole.LEADER or locked.status != MembershipStatus.ACTIVE:
        raise RuleViolation(_("该队员不是在任队长。"))
    before = {"status": locked.status, "role": locked.role}
    locked.role = MembershipRole.MEMBER
    locked.decided_at = timezone.now()
    locked.decided_by = actor
    locked.save(update_fields=["role", "decided_at", "decided_by"])
    _audit_membership(actor, "team.leader_dismiss", locked, before, (reason or "").strip())
    return locked
