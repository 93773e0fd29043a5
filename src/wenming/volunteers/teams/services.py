"""Writes about teams: creating and editing them; join requests, decisions, leaving,
removal; appointing and dismissing leaders."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_of
from wenming.core.access import in_scope
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
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
from wenming.volunteers.teams.permissions import (
    NAME_MAX,
    OPEN_STATUSES,
    REASON_MAX,
    _own_volunteer,
    _refuse,
    _require_decider,
    _require_manage,
    _visible_q,
)

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


def _owner_unit(actor: Actor, unit_id: Any) -> Unit:
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
    *, actor: Actor, name: str, team_type_id: int, unit_id: int, description: str = ""
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
def team_update(*, actor: Actor, team: Team, **fields: Any) -> Team:
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
    actor: Actor, verb: str, m: Membership, before: dict[str, str], note: str = ""
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
def team_join_request(*, actor: Actor, team: Team) -> Membership:
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
def membership_approve(*, actor: Actor, membership: Membership) -> Membership:
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
    locked.decided_by = user_of(actor)
    locked.save(update_fields=["status", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_approve", locked, before)
    return locked


@transaction.atomic
def membership_reject(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
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
    locked.decided_by = user_of(actor)
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_reject", locked, before, locked.reason)
    return locked


@transaction.atomic
def team_leave(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
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
    locked.decided_by = user_of(actor)
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.leave", locked, before, locked.reason)
    return locked


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership, reason: str) -> Membership:
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
    locked.decided_by = user_of(actor)
    locked.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    _audit_membership(actor, "team.membership_remove", locked, before, locked.reason)
    return locked


@transaction.atomic
def leader_appoint(*, actor: Actor, team: Team, volunteer: Volunteer) -> Membership:
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
            decided_by=user_of(actor),
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
        membership.decided_by = user_of(actor)
        membership.save(update_fields=["role", "status", "decided_at", "decided_by"])
    membership.team = team
    membership.volunteer = volunteer
    _audit_membership(actor, "team.leader_appoint", membership, before)
    return membership


@transaction.atomic
def leader_dismiss(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
    """End a leader's leadership (staff managing the team's region). They stay in the
    team as a member, and the membership row and the audit log keep the history."""
    _require_manage(actor, membership.team)
    locked = _lock(membership)
    if locked.role != MembershipRole.LEADER or locked.status != MembershipStatus.ACTIVE:
        raise RuleViolation(_("该队员不是在任队长。"))
    before = {"status": locked.status, "role": locked.role}
    locked.role = MembershipRole.MEMBER
    locked.decided_at = timezone.now()
    locked.decided_by = user_of(actor)
    locked.save(update_fields=["role", "decided_at", "decided_by"])
    _audit_membership(actor, "team.leader_dismiss", locked, before, (reason or "").strip())
    return locked
