"""Creating and editing activities, the approval policy of a unit, projects and the
subcategory catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.activities.models import (
    Activity,
    ActivityApprovalPolicy,
    Project,
    Subcategory,
    WorkItem,
)
from wenming.activities.permissions import EDITABLE_STATES, approver_region, require_owner
from wenming.activities.services.lifecycle import (
    S,
)
from wenming.activities.services.signup import _promote_waitlist
from wenming.core import regions as rc
from wenming.core.access import in_scope, require
from wenming.core.audit import (
    audit_record,
    diff,
    snapshot,
)
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
from wenming.network.models import Unit
from wenming.volunteers.models import Skill, Team

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
def activity_create(*, actor: Actor, data: ActivityInput) -> Activity:
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
def activity_update(*, actor: Actor, activity: Activity, data: ActivityInput) -> Activity:
    """Edit a draft freely; once published only the place details, the description and
    the quota (never below the places taken: a raised quota promotes the waitlist)."""
    require_owner(actor, activity)
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
    *, actor: Actor, unit: Unit, approval_required: bool
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


# ---------------------------------------------------------------- projects and subcategories


@transaction.atomic
def project_create(
    *,
    actor: Actor,
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


def _require_catalogue_admin(actor: Actor) -> str:
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
    actor: Actor,
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
