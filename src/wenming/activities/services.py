"""Writes about activities: create and edit, the state machine, sign-up and cancel.

Every service checks the actor's role and scope, changes state atomically and records
an audit event. Sign-ups lock the activity row (SELECT … FOR UPDATE) before counting,
and the quota counter sits under a CHECK constraint, so that no number of concurrent
sign-ups can hold more places than the quota."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import secrets
import warnings
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.activities.models import (
    LIVE_SIGNUP_STATES,
    MAX_PHOTOS_PER_ACTIVITY,
    Activity,
    ActivityApprovalPolicy,
    ActivityPhoto,
    ActivityState,
    CalendarFeed,
    Project,
    SignUp,
    SignUpState,
    Subcategory,
    WorkItem,
)
from wenming.core import regions as rc
from wenming.core.access import in_scope, require
from wenming.core.audit import (
    audit_insert_select_sql,
    audit_record,
    audit_sql_params,
    column_sql,
    diff,
    snapshot,
)
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
from wenming.network.models import Unit
from wenming.volunteers.models import Skill, Team, Volunteer, VolunteerStatus
from wenming.volunteers.own import active_volunteer_of

S = ActivityState

# ---------------------------------------------------------------- the state machine


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    label: str | Promise
    # "owner": staff over the owning unit; "approver": staff over the unit above it.
    by: str = "owner"
    reason_required: bool = False
    destructive: bool = False


# The one table of allowed transitions. Whether publishing needs approval is a rule on
# top (see `_check_policy`): with approval, draft → submitted → published; without,
# draft → published.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, gettext_lazy("提交审核")),
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.PUBLISHED,
            gettext_lazy("审核通过并发布"),
            by="approver",
        ),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.DRAFT,
            gettext_lazy("退回修改"),
            by="approver",
            reason_required=True,
        ),
        Transition("publish", frozenset({S.DRAFT}), S.PUBLISHED, gettext_lazy("发布")),
        Transition("start", frozenset({S.PUBLISHED}), S.ONGOING, gettext_lazy("开始活动")),
        Transition("finish", frozenset({S.ONGOING}), S.FINISHED, gettext_lazy("结束活动")),
        Transition(
            "cancel",
            frozenset({S.DRAFT, S.SUBMITTED, S.PUBLISHED, S.ONGOING}),
            S.CANCELLED,
            gettext_lazy("取消活动"),
            reason_required=True,
            destructive=True,
        ),
    ]
}


def approval_required(unit: Unit) -> bool:
    policy = ActivityApprovalPolicy.objects.filter(unit_id=unit.pk).first()
    return bool(policy and policy.approval_required)


def approver_region(unit: Unit) -> str:
    """The region whose staff approve the unit's activities: the parent unit's region,
    else the region above the unit's own."""
    if unit.parent_id is not None:
        return Unit.objects.only("region_id").get(pk=unit.parent_id).region_id
    return rc.parent_of(unit.region_id) or unit.region_id


def _require_owner(actor: Any, activity: Activity) -> None:
    require(actor, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)


def _require_approver(actor: Any, activity: Activity) -> None:
    region = approver_region(activity.unit)
    if in_scope(actor, Perm.ACTIVITY_MANAGE, region):
        return
    _require_owner(actor, activity)  # outsiders 404, read-only 403
    raise Forbidden(_("只有上级单位可以审核本单位的活动。"))


def allowed_actions(actor: Any, activity: Activity) -> list[Transition]:
    """The transitions the actor may take now (for buttons; the services decide)."""
    result = []
    needs_approval = approval_required(activity.unit)
    for t in TRANSITIONS.values():
        if activity.state not in t.sources:
            continue
        if t.action == "submit" and not needs_approval:
            continue
        if t.action == "publish" and needs_approval:
            continue
        try:
            (_require_approver if t.by == "approver" else _require_owner)(actor, activity)
        except (Forbidden, NotFound):
            continue
        result.append(t)
    return result


def _check_policy(action: str, activity: Activity) -> None:
    needs_approval = approval_required(activity.unit)
    if action == "publish" and needs_approval:
        raise RuleViolation(_("本单位的活动须经上级单位审核后发布，请提交审核。"))
    if action == "submit" and not needs_approval:
        raise RuleViolation(_("本单位的活动无需审核，可直接发布。"))
    if action in {"publish", "approve"} and activity.signup_closes_at <= timezone.now():
        raise RuleViolation(_("报名截止时间已过，请先修改活动时间。"), field="signup_closes_at")


# The only transitions the clock may take on its own (actor None, see
# `activities_advance_by_clock`): a published activity starts at its start time and an
# ongoing one finishes at its end time. Everything else needs a person.
SYSTEM_ACTIONS = frozenset({"start", "finish"})


@transaction.atomic
def activity_transition(
    *, actor: Any, activity: Activity, action: str, reason: str = ""
) -> Activity:
    """Move an activity along one allowed transition of TRANSITIONS, recording who,
    when and why. Any other move is refused and changes nothing.

    `actor=None` is the system (the periodic task): allowed for SYSTEM_ACTIONS only,
    audited with no actor ("系统") and the reason as the note."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise RuleViolation(_("未知的操作。"))
    if actor is None:
        if action not in SYSTEM_ACTIONS:
            raise Forbidden(_("系统只能按时间开始或结束活动。"))
    elif transition.by == "approver":
        _require_approver(actor, activity)
    else:
        _require_owner(actor, activity)
    locked = Activity.objects.select_for_update().select_related("unit").get(pk=activity.pk)
    if locked.state not in transition.sources:
        raise RuleViolation(
            _("活动当前为“%(state)s”，不能%(action)s。")
            % {"state": locked.get_state_display(), "action": transition.label}
        )
    reason = (reason or "").strip()[:300]
    if transition.reason_required and not reason:
        raise RuleViolation(_("请写明原因。"), field="reason")
    _check_policy(action, locked)
    before = locked.state
    locked.state = transition.target
    locked.state_changed_at = timezone.now()
    if locked.state == S.PUBLISHED and locked.published_at is None:
        locked.published_at = locked.state_changed_at
    locked.save(update_fields=["state", "state_changed_at", "published_at", "updated_at"])
    audit_record(
        actor=actor,
        verb=f"activity.{action}",
        target=locked,
        region_code=locked.region_id,
        changes={"state": [before, locked.state]},
        note=reason,
    )
    if locked.state == S.CANCELLED:
        _notify_volunteers(
            volunteer_ids=list(
                SignUp.objects.filter(activity=locked, state__in=LIVE_SIGNUP_STATES).values_list(
                    "volunteer_id", flat=True
                )
            ),
            activity=locked,
            verb="activity.cancel",
            title=_("活动已取消：“%(t)s”") % {"t": locked.title},
            body=_("原定 %(when)s 的活动取消了。原因：%(r)s")
            % {"when": _when(locked), "r": reason},
        )
    return locked


def activity_submit(*, actor: Any, activity: Activity, reason: str = "") -> Activity:
    return activity_transition(actor=actor, activity=activity, action="submit", reason=reason)


def activity_approve(*, actor: Any, activity: Activity, reason: str = "") -> Activity:
    return activity_transition(actor=actor, activity=activity, action="approve", reason=reason)


def activity_reject(*, actor: Any, activity: Activity, reason: str) -> Activity:
    return activity_transition(actor=actor, activity=activity, action="reject", reason=reason)


def activity_publish(*, actor: Any, activity: Activity, reason: str = "") -> Activity:
    return activity_transition(actor=actor, activity=activity, action="publish", reason=reason)


def activity_start(*, actor: Any, activity: Activity, reason: str = "") -> Activity:
    return activity_transition(actor=actor, activity=activity, action="start", reason=reason)


def activity_finish(*, actor: Any, activity: Activity, reason: str = "") -> Activity:
    return activity_transition(actor=actor, activity=activity, action="finish", reason=reason)


def activity_cancel(*, actor: Any, activity: Activity, reason: str) -> Activity:
    return activity_transition(actor=actor, activity=activity, action="cancel", reason=reason)


@dataclass(frozen=True)
class ClockResult:
    started: int
    finished: int


def activities_advance_by_clock(*, now: dt.datetime | None = None) -> ClockResult:
    """Start every published activity whose start time has passed and finish every
    ongoing one whose end time has passed (an activity past both goes all the way in
    one run), through `activity_transition` with the system actor.

    Each activity is its own transaction, claimed with SELECT … FOR UPDATE SKIP LOCKED
    and re-checked under the lock, so two runs at once never move one activity twice and
    a run never waits on a row someone is editing (the next run picks it up). Running
    again changes nothing more."""
    now = now or timezone.now()
    started = _advance(
        "start", S.PUBLISHED, {"starts_at__lte": now}, gettext_lazy("开始时间已到，自动开始。")
    )
    finished = _advance(
        "finish", S.ONGOING, {"ends_at__lte": now}, gettext_lazy("结束时间已到，自动结束。")
    )
    return ClockResult(started=started, finished=finished)


def _advance(action: str, state: str, due: dict[str, Any], note: str | Promise) -> int:
    moved = 0
    ids = list(
        Activity.objects.filter(state=state, **due).order_by("pk").values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            claimed = (
                Activity.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=state, **due)
                .first()
            )
            if claimed is None:  # moved by someone else meanwhile, or locked right now
                continue
            activity_transition(actor=None, activity=claimed, action=action, reason=str(note))
            moved += 1
    return moved


# ---------------------------------------------------------------- create and edit


@dataclass
class ActivityInput:
    title: str
    work_item: str
    unit_id: int
    venue: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    quota: int
    signup_closes_at: dt.datetime | None = None
    signup_opens_at: dt.datetime | None = None
    subcategory_id: int | None = None
    project_id: int | None = None
    team_id: int | None = None
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    skill_ids: tuple[int, ...] | list[int] = ()
    description: str = ""


# Fields that may still change once an activity is published (volunteers rely on the rest).
PUBLISHED_EDITABLE = {"description", "address", "venue", "quota", "team"}
EDITABLE_STATES = (S.DRAFT, S.PUBLISHED)
AUDITED_FIELDS = [
    "title", "work_item", "subcategory", "project", "unit", "team", "venue", "address",
    "latitude", "longitude", "starts_at", "ends_at", "signup_opens_at", "signup_closes_at",
    "quota", "description",
]  # fmt: skip


def _clean(data: ActivityInput) -> dict[str, Any]:
    """Validate everything before anything is written; return model field values."""
    title = (data.title or "").strip()
    if not title or len(title) > 100:
        raise RuleViolation(_("请填写活动名称（最多 100 个字）。"), field="title")
    if data.work_item not in WorkItem.values:
        raise RuleViolation(_("请选择五项工作之一。"), field="work_item")
    venue = (data.venue or "").strip()
    if not venue:
        raise RuleViolation(_("请填写活动地点。"), field="venue")
    try:
        unit = Unit.objects.get(pk=data.unit_id, is_active=True)
    except Unit.DoesNotExist as exc:
        raise RuleViolation(_("请选择主办单位。"), field="unit") from exc
    if data.ends_at <= data.starts_at:
        raise RuleViolation(_("结束时间须晚于开始时间。"), field="ends_at")
    closes = data.signup_closes_at or data.starts_at
    if closes > data.ends_at:
        raise RuleViolation(_("报名截止时间不能晚于活动结束时间。"), field="signup_closes_at")
    if data.signup_opens_at is not None and data.signup_opens_at >= closes:
        raise RuleViolation(_("报名开始时间须早于报名截止时间。"), field="signup_opens_at")
    try:
        quota = int(data.quota)
    except (TypeError, ValueError):
        quota = 0
    if not 1 <= quota <= 100_000:
        raise RuleViolation(_("招募人数须为正整数。"), field="quota")
    if (data.latitude is None) != (data.longitude is None):
        raise RuleViolation(_("经纬度须同时填写。"), field="latitude")
    if (
        data.latitude is not None
        and data.longitude is not None
        and not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180)
    ):
        raise RuleViolation(_("经纬度不正确。"), field="latitude")
    subcategory = None
    if data.subcategory_id:
        subcategory = Subcategory.objects.filter(pk=data.subcategory_id, is_active=True).first()
        if subcategory is None or subcategory.work_item != data.work_item:
            raise RuleViolation(_("子类不属于所选的五项工作。"), field="subcategory")
    project = None
    if data.project_id:
        project = Project.objects.filter(pk=data.project_id).first()
        if project is None or not rc.is_within(unit.region_id, rc.prefix_of(project.region_id)):
            raise RuleViolation(_("所选项目不属于主办单位或其上级。"), field="project")
    team = None
    if data.team_id:
        team = Team.objects.filter(pk=data.team_id, is_active=True).first()
        if team is None or not (
            rc.is_within(team.region_id, rc.prefix_of(unit.region_id))
            or rc.is_within(unit.region_id, rc.prefix_of(team.region_id))
        ):
            raise RuleViolation(_("所选服务队不在主办单位的辖区内。"), field="team")
    skills = list(Skill.objects.filter(pk__in=list(data.skill_ids)))
    if len(skills) != len(set(data.skill_ids)):
        raise RuleViolation(_("技能不正确。"), field="skills")

    def minute(value: dt.datetime) -> dt.datetime:
        # Scheduled to the minute (as the form shows them), stored in UTC.
        return value.replace(second=0, microsecond=0).astimezone(dt.UTC)

    return {
        "title": title,
        "work_item": data.work_item,
        "subcategory": subcategory,
        "project": project,
        "unit": unit,
        "region_id": unit.region_id,
        "team": team,
        "venue": venue[:100],
        "address": (data.address or "").strip()[:200],
        "latitude": _coordinate(data.latitude),
        "longitude": _coordinate(data.longitude),
        "starts_at": minute(data.starts_at),
        "ends_at": minute(data.ends_at),
        "signup_opens_at": minute(data.signup_opens_at) if data.signup_opens_at else None,
        "signup_closes_at": minute(closes),
        "quota": quota,
        "description": clean_text(
            data.description, field="description", label=_("活动内容"), max_length=DESCRIPTION_MAX
        ),
        "skills": skills,
    }


def _coordinate(value: Decimal | None) -> Decimal | None:
    # Six places, as stored: so that an unchanged value compares equal when edited.
    return None if value is None else Decimal(value).quantize(Decimal("0.000001"))


@transaction.atomic
def activity_create(*, actor: Any, data: ActivityInput) -> Activity:
    """Create a draft activity for a unit in the actor's ACTIVITY_MANAGE scope."""
    values = _clean(data)
    require(actor, Perm.ACTIVITY_MANAGE, values["region_id"], view_perm=Perm.ACTIVITY_VIEW)
    skills = values.pop("skills")
    activity = Activity.objects.create(
        **values, state=S.DRAFT, created_by=actor if actor.is_authenticated else None
    )
    activity.skills.set(skills)
    audit_record(
        actor=actor,
        verb="activity.create",
        target=activity,
        region_code=activity.region_id,
        changes={k: [None, v] for k, v in snapshot(activity, AUDITED_FIELDS).items()},
    )
    return activity


@transaction.atomic
def activity_update(*, actor: Any, activity: Activity, data: ActivityInput) -> Activity:
    """Edit a draft freely; once published only the place details, the description and
    the quota (never below the places taken: a raised quota promotes the waitlist)."""
    _require_owner(actor, activity)
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.state not in EDITABLE_STATES:
        raise RuleViolation(
            _("活动当前为“%(state)s”，不能修改。") % {"state": locked.get_state_display()}
        )
    values = _clean(data)
    require(actor, Perm.ACTIVITY_MANAGE, values["region_id"], view_perm=Perm.ACTIVITY_VIEW)
    skills = values.pop("skills")
    before = snapshot(locked, AUDITED_FIELDS)
    if locked.state == S.PUBLISHED:
        frozen = [
            k
            for k in AUDITED_FIELDS
            if k not in PUBLISHED_EDITABLE and _current(locked, k) != _plain_value(values[k])
        ]
        if frozen:
            raise RuleViolation(_("活动已发布，只能修改地点、内容、所需技能、服务队和招募人数。"))
    if values["quota"] < locked.signed_up_count:
        raise RuleViolation(
            _("已有 %(n)s 人报名，招募人数不能少于此数。") % {"n": locked.signed_up_count},
            field="quota",
        )
    for key, value in values.items():
        setattr(locked, key, value)
    locked.save()
    locked.skills.set(skills)
    promoted = _promote_waitlist(actor=actor, activity=locked)
    changes = diff(before, snapshot(locked, AUDITED_FIELDS))
    if changes or promoted:
        audit_record(
            actor=actor,
            verb="activity.update",
            target=locked,
            region_code=locked.region_id,
            changes=changes,
        )
    return locked


def _current(activity: Activity, name: str) -> Any:
    field = Activity._meta.get_field(name)
    return getattr(activity, getattr(field, "attname", name))


def _plain_value(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def approval_policy_set(
    *, actor: Any, unit: Unit, approval_required: bool
) -> ActivityApprovalPolicy:
    """Whether a unit's activities need the upper unit's approval: set by the upper unit."""
    region = approver_region(unit)
    if not in_scope(actor, Perm.ACTIVITY_MANAGE, region):
        require(actor, Perm.ACTIVITY_MANAGE, unit.region_id, view_perm=Perm.ACTIVITY_VIEW)
        raise Forbidden(_("只有上级单位可以设置本单位的活动审核。"))
    policy, _created = ActivityApprovalPolicy.objects.get_or_create(unit=unit)
    before = None if _created else policy.approval_required
    policy.approval_required = approval_required
    policy.save()
    audit_record(
        actor=actor,
        verb="activity.policy",
        target=unit,
        region_code=unit.region_id,
        changes={"approval_required": [before, approval_required]},
    )
    return policy


# ---------------------------------------------------------------- sign-up


def _volunteer_of(actor: Any, only: tuple[str, ...] = ()) -> Volunteer:
    return active_volunteer_of(
        actor,
        only=only,
        missing=_("请先注册成为志愿者。"),
        inactive=_("您的志愿者注册尚未生效，暂时不能报名。"),
    )


def _signup_volunteer(actor: Any, activity: Activity) -> Volunteer:
    """The actor's volunteer record, as `selectors.activity_for_signup` read it with the
    activity (else looked up here), refused unless registered and active."""
    if not hasattr(activity, "signup_volunteer_id"):
        return _volunteer_of(actor, only=("id", "user_id", "status"))
    volunteer_id = getattr(activity, "signup_volunteer_id", None)
    status = getattr(activity, "signup_volunteer_status", None)
    if volunteer_id is None or not getattr(actor, "is_authenticated", False):
        raise RuleViolation(_("请先注册成为志愿者。"), code="not_volunteer")
    if status != VolunteerStatus.ACTIVE:
        raise RuleViolation(_("您的志愿者注册尚未生效，暂时不能报名。"), code="not_active")
    return Volunteer(pk=volunteer_id, user_id=actor.pk, status=status)


def _require_signup_open(activity: Activity, now: dt.datetime) -> None:
    if activity.state != S.PUBLISHED:
        raise RuleViolation(_("该活动不在报名中。"), code="not_open")
    if activity.signup_opens_at is not None and now < activity.signup_opens_at:
        raise RuleViolation(_("报名尚未开始。"), code="not_open")
    if now >= activity.signup_closes_at:
        raise RuleViolation(_("报名已经截止。"), code="closed")


def signup_create(*, actor: Any, activity: Activity, now: dt.datetime | None = None) -> SignUp:
    """Sign the acting volunteer up: a place while places remain, else the next waitlist
    position. Only registered (active) volunteers, only published activities, only
    inside the sign-up window, one live sign-up per volunteer, who has every skill the
    activity asks for (a skill is the volunteer's own claim, kept on their profile). The
    activity row is
    locked first, so concurrent sign-ups queue and the count is always right.

    Everyone signs up at once when a popular activity opens, and they queue on that one
    row lock: on PostgreSQL the lock, the counter, the sign-up and its audit event are
    one statement, so the lock is held for that statement only."""
    volunteer = _signup_volunteer(actor, activity)
    now = now or timezone.now()
    one_statement = connection.vendor == "postgresql"
    # Elsewhere checked before the lock to keep the locked stretch short (a concurrent
    # duplicate still meets the partial unique constraint); on PostgreSQL the
    # constraint alone answers, inside the one statement.
    if (
        not one_statement
        and SignUp.objects.filter(
            activity_id=activity.pk, volunteer=volunteer, state__in=LIVE_SIGNUP_STATES
        ).exists()
    ):
        raise RuleViolation(_("您已经报名了该活动。"), code="duplicate")
    missing = (
        list(
            Skill.objects.filter(activity=activity)
            .exclude(pk__in=volunteer.skills.values("pk"))
            .order_by("name")
            .values_list("name", flat=True)
        )
        if getattr(activity, "needs_skills", True)
        else []
    )
    if missing:
        raise RuleViolation(
            _("本活动需要这些技能：%(s)s。如您具备，请先在“我的”里补充技能再报名。")
            % {"s": "、".join(missing)},
            code="missing_skills",
        )
    if one_statement:
        return _signup_in_one_statement(
            actor=actor, activity=activity, volunteer=volunteer, now=now
        )
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        _require_signup_open(locked, now)
        signup = SignUp(activity=locked, volunteer=volunteer)
        if locked.signed_up_count < locked.quota:
            signup.state = SignUpState.SIGNED_UP
            locked.signed_up_count += 1
        else:
            signup.state = SignUpState.WAITLISTED
            locked.waitlist_seq += 1
            signup.position = locked.waitlist_seq
        try:
            with transaction.atomic():
                signup.save()
        except IntegrityError as exc:  # the same volunteer from two tabs at once
            raise RuleViolation(_("您已经报名了该活动。"), code="duplicate") from exc
        locked.save(update_fields=["signed_up_count", "waitlist_seq", "updated_at"])
        audit_record(
            actor=actor,
            verb="signup.create",
            target=signup,
            region_code=locked.region_id,
            changes={"state": [None, signup.state], "position": [None, signup.position]},
        )
    return signup


@functools.cache
def _signup_sql() -> str:
    qn = connection.ops.quote_name
    a, s = Activity._meta, SignUp._meta

    def c(meta: Any, name: str) -> str:
        return column_sql(meta.model, name)

    count, quota, seq = c(a, "signed_up_count"), c(a, "quota"), c(a, "waitlist_seq")
    signup_columns = ", ".join(
        c(s, n) for n in ["activity", "volunteer", "state", "position", "created_at",
                          "promoted_at", "cancelled_at", "cancel_reason"]
    )  # fmt: skip
    event = audit_insert_select_sql(
        source="s",
        target_id="s.id",
        target_label="s.activity_id || ':' || s.volunteer_id || ':' || s.state",
        changes="jsonb_build_object('state', jsonb_build_array(NULL, s.state), "
        "'position', jsonb_build_array(NULL, s.position))",
    )
    # `o` locks the row and reads whether a place is left; `a` moves the counter (or the
    # waitlist sequence) only while sign-up is open; `s` inserts the sign-up; `ev` its
    # audit event. Identifiers from the models' metadata, every value a parameter.
    return (
        f"WITH o AS (SELECT {c(a, 'id')} AS id, {count} < {quota} AS placed "  # noqa: S608
        f"FROM {qn(a.db_table)} WHERE {c(a, 'id')} = %s FOR UPDATE), "
        f"a AS (UPDATE {qn(a.db_table)} AS t SET "
        f"{count} = t.{count} + CASE WHEN o.placed THEN 1 ELSE 0 END, "
        f"{seq} = t.{seq} + CASE WHEN o.placed THEN 0 ELSE 1 END, "
        f"{c(a, 'updated_at')} = %s "
        f"FROM o WHERE t.{c(a, 'id')} = o.id AND t.{c(a, 'state')} = %s "
        f"AND (t.{c(a, 'signup_opens_at')} IS NULL OR t.{c(a, 'signup_opens_at')} <= %s) "
        f"AND t.{c(a, 'signup_closes_at')} > %s "
        f"RETURNING t.{c(a, 'id')} AS id, o.placed AS placed, t.{seq} AS seq), "
        f"s AS (INSERT INTO {qn(s.db_table)} ({signup_columns}) "
        "SELECT a.id, %s, CASE WHEN a.placed THEN %s ELSE %s END, "
        "CASE WHEN a.placed THEN NULL ELSE a.seq END, %s, NULL, NULL, '' FROM a "
        f"RETURNING {c(s, 'id')} AS id, {c(s, 'activity')} AS activity_id, "
        f"{c(s, 'volunteer')} AS volunteer_id, {c(s, 'state')} AS state, "
        f"{c(s, 'position')} AS position), "
        f"ev AS ({event}) "
        "SELECT id, state, position FROM s"
    )


def _signup_in_one_statement(
    *, actor: Any, activity: Activity, volunteer: Volunteer, now: dt.datetime
) -> SignUp:
    params = [
        activity.pk, now, S.PUBLISHED, now, now,
        volunteer.pk, SignUpState.SIGNED_UP, SignUpState.WAITLISTED, now,
        *audit_sql_params(
            actor=actor,
            verb="signup.create",
            target_type=SignUp._meta.label_lower,
            region_code=activity.region_id,
        ),
    ]  # fmt: skip
    # Its own transaction when there is none around it (autocommit: the lock ends with
    # the statement); a savepoint inside a caller's, so that a duplicate leaves it usable.
    block = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with block, connection.cursor() as cursor:
            cursor.execute(_signup_sql(), params)
            row = cursor.fetchone()
    except IntegrityError as exc:  # the same volunteer from two tabs at once
        raise RuleViolation(_("您已经报名了该活动。"), code="duplicate") from exc
    if row is None:  # nothing changed: say which rule refused
        _require_signup_open(Activity.objects.get(pk=activity.pk), now)
        raise RuleViolation(_("该活动不在报名中。"), code="not_open")
    signup = SignUp(
        pk=row[0], activity=activity, volunteer=volunteer, state=row[1], position=row[2]
    )
    signup.created_at = now
    signup._state.adding = False
    signup._state.db = connection.alias
    return signup


def _promote_waitlist(*, actor: Any, activity: Activity) -> int:
    """Give free places to the earliest waitlisted volunteers. The caller holds the
    activity row lock."""
    promoted = 0
    promoted_volunteers: list[int] = []
    now = timezone.now()
    while activity.signed_up_count < activity.quota:
        first = (
            SignUp.objects.select_for_update()
            .filter(activity=activity, state=SignUpState.WAITLISTED)
            .order_by("position")
            .first()
        )
        if first is None:
            break
        position = first.position
        first.state = SignUpState.SIGNED_UP
        first.position = None
        first.promoted_at = now
        first.save(update_fields=["state", "position", "promoted_at"])
        activity.signed_up_count += 1
        promoted += 1
        promoted_volunteers.append(first.volunteer_id)
        audit_record(
            actor=actor,
            verb="signup.promote",
            target=first,
            region_code=activity.region_id,
            changes={"state": [SignUpState.WAITLISTED, SignUpState.SIGNED_UP],
                     "position": [position, None]},
        )  # fmt: skip
    if promoted:
        activity.save(update_fields=["signed_up_count", "updated_at"])
        _notify_volunteers(
            volunteer_ids=promoted_volunteers,
            activity=activity,
            verb="signup.promote",
            title=_("候补成功：您已获得“%(t)s”的名额") % {"t": activity.title},
            body=_("活动时间：%(when)s，地点：%(venue)s。如不能参加，请及时取消报名。")
            % {"when": _when(activity), "venue": activity.venue or activity.address},
        )
    return promoted


def _when(activity: Activity) -> str:
    return timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M")


def _notify_volunteers(
    *, volunteer_ids: list[int], activity: Activity, verb: str, title: str, body: str
) -> None:
    """Tell these volunteers (in the app and by SMS) about a change to their place,
    inside the caller's transaction."""
    from wenming.accounts.models import User
    from wenming.notifications.services import notify

    users = User.objects.filter(
        pk__in=Volunteer.objects.filter(pk__in=volunteer_ids, user__isnull=False).values("user_id")
    )
    notify(
        recipients=list(users),
        verb=verb,
        title=title,
        body=body,
        url=reverse("activities:detail", args=[activity.pk]),
        region_code=activity.region_id,
        sms=True,
    )


@transaction.atomic
def signup_cancel(
    *, actor: Any, signup: SignUp, reason: str = "", now: dt.datetime | None = None
) -> SignUp:
    """The volunteer withdraws before the activity starts. A freed place goes to the
    first on the waitlist in the same transaction."""
    if signup.volunteer.user_id is None or signup.volunteer.user_id != getattr(actor, "pk", None):
        raise NotFound(_("找不到该报名。"))
    now = now or timezone.now()
    locked_activity = Activity.objects.select_for_update().get(pk=signup.activity_id)
    locked = SignUp.objects.select_for_update().get(pk=signup.pk)
    if locked.state not in LIVE_SIGNUP_STATES:
        raise RuleViolation(_("该报名已经取消。"))
    if locked_activity.state != S.PUBLISHED or now >= locked_activity.starts_at:
        raise RuleViolation(_("活动已开始或已结束，不能取消报名。"))
    before = (locked.state, locked.position)
    was_signed_up = locked.state == SignUpState.SIGNED_UP
    locked.state = SignUpState.CANCELLED
    locked.position = None
    locked.cancelled_at = now
    locked.cancel_reason = (reason or "").strip()[:200]
    locked.save(update_fields=["state", "position", "cancelled_at", "cancel_reason"])
    if was_signed_up:
        locked_activity.signed_up_count -= 1
        locked_activity.save(update_fields=["signed_up_count", "updated_at"])
    audit_record(
        actor=actor,
        verb="signup.cancel",
        target=locked,
        region_code=locked_activity.region_id,
        changes={"state": [before[0], locked.state], "position": [before[1], None]},
        note=locked.cancel_reason,
    )
    if was_signed_up:
        _promote_waitlist(actor=actor, activity=locked_activity)
    return locked


# ---------------------------------------------------------------- projects and subcategories


@transaction.atomic
def project_create(
    *,
    actor: Any,
    name: str,
    unit_id: int,
    work_item: str = "",
    is_brand: bool = False,
    description: str = "",
) -> Project:
    """A project for a unit in the actor's ACTIVITY_MANAGE scope; names are unique per unit."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise RuleViolation(_("请填写项目名称（最多 100 个字）。"), field="name")
    if work_item and work_item not in WorkItem.values:
        raise RuleViolation(_("请选择五项工作之一。"), field="work_item")
    description = clean_text(
        description, field="description", label=_("简介"), max_length=DESCRIPTION_MAX
    )
    unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise RuleViolation(_("请选择主办单位。"), field="unit")
    require(actor, Perm.ACTIVITY_MANAGE, unit.region_id, view_perm=Perm.ACTIVITY_VIEW)
    if Project.objects.filter(unit=unit, name=name).exists():
        raise RuleViolation(_("本单位已有同名项目。"), field="name")
    try:
        with transaction.atomic():
            project = Project.objects.create(
                name=name,
                unit=unit,
                region_id=unit.region_id,
                work_item=work_item,
                is_brand=is_brand,
                description=description,
            )
    except IntegrityError as exc:  # the same name created concurrently
        raise RuleViolation(_("本单位已有同名项目。"), field="name") from exc
    audit_record(
        actor=actor,
        verb="project.create",
        target=project,
        region_code=project.region_id,
        changes={"name": [None, name], "is_brand": [None, is_brand]},
    )
    return project


def _require_catalogue_admin(actor: Any) -> str:
    """Subcategories are shared by the whole deployment: only ACTIVITY_MANAGE over a
    province (a system admin) configures them. Returns the province's code (where the
    change is audited)."""
    from wenming.core.access import prefixes_for

    provinces = [p for p in prefixes_for(actor, Perm.ACTIVITY_MANAGE) if len(p) <= 2]
    if not provinces:
        raise Forbidden(_("活动子类由系统管理员统一设置。"))
    return provinces[0].ljust(rc.CODE_LENGTH, "0")


@transaction.atomic
def subcategory_save(
    *,
    actor: Any,
    work_item: str,
    name: str,
    sort: int = 0,
    is_active: bool = True,
    subcategory: Subcategory | None = None,
) -> Subcategory:
    """Add a subcategory under a work item, or rename, re-sort or switch one off (one in
    use is switched off, never deleted)."""
    region_code = _require_catalogue_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise RuleViolation(_("请填写子类名称（最多 40 个字）。"), field="name")
    if work_item not in WorkItem.values:
        raise RuleViolation(_("请选择五项工作之一。"), field="work_item")
    clash = Subcategory.objects.filter(work_item=work_item, name=name)
    if subcategory is not None:
        clash = clash.exclude(pk=subcategory.pk)
    if clash.exists():
        raise RuleViolation(_("该五项工作下已有同名子类。"), field="name")
    fields = ["work_item", "name", "sort", "is_active"]
    if subcategory is None:
        row = Subcategory(work_item=work_item, name=name, sort=sort, is_active=is_active)
        before: dict[str, Any] = {}
    else:
        row = Subcategory.objects.select_for_update().get(pk=subcategory.pk)
        before = snapshot(row, fields)
        row.work_item, row.name, row.sort, row.is_active = work_item, name, sort, is_active
    moved = subcategory is not None and row.work_item != before["work_item"]
    if moved and row.activities.exists():
        raise RuleViolation(_("已有活动使用该子类，不能改到其他五项工作下。"), field="work_item")
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise RuleViolation(_("该五项工作下已有同名子类。"), field="name") from exc
    changes = diff(before, snapshot(row, fields))
    if changes:
        audit_record(
            actor=actor,
            verb="subcategory.save",
            target=row,
            region_code=region_code,
            changes=changes,
        )
    return row


# ---------------------------------------------------------------- calendar feed


@transaction.atomic
def calendar_feed_reset(*, actor: Any) -> CalendarFeed:
    """Give the acting volunteer a private calendar feed with a new secret token, or
    replace the token of the one they have: the old URL stops working at once. Only the
    volunteer themself; the token itself is never written to the audit log."""
    volunteer = (
        Volunteer.objects.select_for_update().filter(user_id=actor.pk).first()
        if getattr(actor, "is_authenticated", False)
        else None
    )
    if volunteer is None:
        raise RuleViolation(_("请先注册成为志愿者。"), code="not_volunteer")
    feed = CalendarFeed.objects.filter(volunteer=volunteer).first()
    created = feed is None
    if feed is None:
        feed = CalendarFeed(volunteer=volunteer)
    feed.token = secrets.token_urlsafe(32)
    feed.save()
    audit_record(
        actor=actor,
        verb="calendar.create" if created else "calendar.reset",
        target=feed,
        region_code=volunteer.region_id,
    )
    return feed


# ---------------------------------------------------------------- photos

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_SIDE = 1600
THUMBNAIL_MAX_SIDE = 480
# Decoding a huge image costs memory; a phone photo is ~12-50 megapixels.
PHOTO_MAX_PIXELS = 60_000_000
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}


@dataclass(frozen=True)
class _Encoded:
    image: bytes
    thumbnail: bytes
    width: int
    height: int


def _photo_encoded(data: bytes) -> _Encoded:
    """Check an upload by its content (Pillow, not the name or the browser's type) and
    re-encode it: JPEG or PNG or WebP only, turned upright, at most PHOTO_MAX_SIDE px,
    saved as a fresh JPEG without EXIF (GPS), XMP or other metadata."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    bad = RuleViolation(_("请上传 JPEG、PNG 或 WebP 格式的照片。"), field="image", code="bad_type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in PHOTO_FORMATS:
                    raise bad
                if probe.width * probe.height > PHOTO_MAX_PIXELS:
                    raise RuleViolation(_("照片像素过大。"), field="image", code="too_big")
                probe.verify()
            # verify() leaves the image unusable: open it again to decode it.
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                upright = ImageOps.exif_transpose(img)
    except RuleViolation:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise bad from exc
    if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, (255, 255, 255))
        upright.paste(rgba, mask=rgba.getchannel("A"))
    else:
        upright = upright.convert("RGB")

    def jpeg(side: int) -> tuple[bytes, int, int]:
        copy = upright.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # No exif= and no icc_profile=: nothing from the original's metadata survives.
        copy.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        return out.getvalue(), copy.width, copy.height

    image, width, height = jpeg(PHOTO_MAX_SIDE)
    thumbnail, _w, _h = jpeg(THUMBNAIL_MAX_SIDE)
    return _Encoded(image=image, thumbnail=thumbnail, width=width, height=height)


def _require_photo_manager(actor: Any, activity: Activity) -> None:
    require(actor, Perm.ACTIVITY_MANAGE, activity.region_id, view_perm=Perm.ACTIVITY_VIEW)


def _delete_files(*names: str) -> None:
    for name in names:
        if name:
            default_storage.delete(name)


@transaction.atomic
def activity_photo_add(
    *, actor: Any, activity: Activity, upload: Any, caption: str = ""
) -> ActivityPhoto:
    """Add a photo to an activity: staff with ACTIVITY_MANAGE over it, never to a
    cancelled activity, at most MAX_PHOTOS_PER_ACTIVITY (counted under the activity row
    lock, so two uploads at once cannot make a tenth), at most 5 MB, a real JPEG, PNG or
    WebP. Stored re-encoded under a random name, metadata stripped."""
    _require_photo_manager(actor, activity)
    caption = (caption or "").strip()
    if len(caption) > 100:
        raise RuleViolation(_("照片说明最多 100 个字。"), field="caption")
    size = getattr(upload, "size", None)
    if size is None or size > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="image", code="too_big")
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise RuleViolation(_("照片不能超过 5 MB。"), field="image", code="too_big")
    # Decoded before the lock: the slow part does not hold up other writers.
    encoded = _photo_encoded(data)
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.state == S.CANCELLED:
        raise RuleViolation(_("活动已取消，不能上传照片。"), code="cancelled")
    photos = ActivityPhoto.objects.filter(activity=locked)
    count = photos.count()
    if count >= MAX_PHOTOS_PER_ACTIVITY:
        raise RuleViolation(
            _("每个活动最多 %(n)s 张照片。") % {"n": MAX_PHOTOS_PER_ACTIVITY}, code="too_many"
        )
    last_sort = photos.order_by("-sort").values_list("sort", flat=True).first()
    stem = f"activity-photos/{locked.pk}/{secrets.token_urlsafe(16)}"
    image_name = default_storage.save(f"{stem}.jpg", ContentFile(encoded.image))
    thumb_name = ""
    try:
        thumb_name = default_storage.save(f"{stem}-thumb.jpg", ContentFile(encoded.thumbnail))
        photo = ActivityPhoto.objects.create(
            activity=locked,
            image=image_name,
            thumbnail=thumb_name,
            width=encoded.width,
            height=encoded.height,
            caption=caption,
            sort=(last_sort or 0) + 1,
            uploaded_by=actor if actor.is_authenticated else None,
        )
        _touch(locked)
        audit_record(
            actor=actor,
            verb="activity.photo_add",
            target=photo,
            region_code=locked.region_id,
            changes={"caption": [None, caption], "photos": [count, count + 1]},
        )
    except BaseException:
        # The rows roll back; the files would be orphans. (A rollback of a caller's
        # outer transaction after this returns can still leave two small files.)
        _delete_files(image_name, thumb_name)
        raise
    return photo


def _touch(activity: Activity) -> None:
    """Mark the activity changed (its card shows the first photo): the public list's
    cached cards are keyed on the latest `updated_at`."""
    activity.save(update_fields=["updated_at"])


@transaction.atomic
def activity_photo_delete(*, actor: Any, photo: ActivityPhoto) -> None:
    """Remove a photo: staff with ACTIVITY_MANAGE over its activity. The files go once
    the deletion is committed."""
    activity = Activity.objects.select_for_update().get(pk=photo.activity_id)
    _require_photo_manager(actor, activity)
    locked = ActivityPhoto.objects.filter(pk=photo.pk, activity=activity).first()
    if locked is None:
        raise NotFound(_("找不到该照片。"))
    names = (locked.image.name or "", locked.thumbnail.name or "")
    audit_record(
        actor=actor,
        verb="activity.photo_delete",
        target=locked,
        region_code=activity.region_id,
        changes={"caption": [locked.caption, None]},
    )
    locked.delete()
    _touch(activity)
    transaction.on_commit(lambda: _delete_files(*names))
