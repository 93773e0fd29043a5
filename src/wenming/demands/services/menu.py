"""The service menu (服务菜单): items a unit offers, with their providing teams."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.activities.models import Subcategory, WorkItem
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.core.roles import Perm
from wenming.core.text import DESCRIPTION_MAX, clean_text
from wenming.demands.models import (
    DeliveryMode,
    MenuItem,
)
from wenming.network.models import Unit
from wenming.volunteers.models import (
    Skill,
    Team,
)

# ---------------------------------------------------------------- the service menu


@dataclass
class MenuItemInput:
    unit_id: int
    title: str
    work_item: str
    description: str = ""
    subcategory_id: int | None = None
    delivery_mode: str = DeliveryMode.VENUE
    response_hours: int = 24
    complete_hours: int = 72
    team_ids: list[int] = field(default_factory=list)
    skill_ids: list[int] = field(default_factory=list)
    is_active: bool = True


def _menu_code() -> str:
    # Stable and short: "S" and 7 random characters (Open311 service_code).
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return "S" + "".join(secrets.choice(alphabet) for _i in range(7))


def _clean_menu(data: MenuItemInput) -> tuple[Unit, dict[str, Any]]:
    unit = Unit.objects.filter(pk=data.unit_id, is_active=True).first()
    if unit is None:
        raise RuleViolation(_("请选择提供服务的单位。"), field="unit_id")
    title = (data.title or "").strip()
    if not title or len(title) > 60:
        raise RuleViolation(_("请填写服务名称（最多 60 个字）。"), field="title")
    if data.work_item not in WorkItem.values:
        raise RuleViolation(_("请选择五项工作之一。"), field="work_item")
    if data.delivery_mode not in DeliveryMode.values:
        raise RuleViolation(_("请选择服务方式。"), field="delivery_mode")
    subcategory = None
    if data.subcategory_id:
        subcategory = Subcategory.objects.filter(
            pk=data.subcategory_id, work_item=data.work_item
        ).first()
        if subcategory is None:
            raise RuleViolation(_("子类不属于所选的五项工作。"), field="subcategory_id")
    for name in ("response_hours", "complete_hours"):
        hours = getattr(data, name)
        if not isinstance(hours, int) or not 1 <= hours <= 24 * 90:
            raise RuleViolation(_("时限须在 1 小时到 90 天之间。"), field=name)
    county = rc.county_prefix(unit.region_id)
    teams = list(Team.objects.filter(pk__in=data.team_ids, is_active=True))
    if len(teams) != len(set(data.team_ids)):
        raise RuleViolation(_("所选服务队不存在或已停用。"), field="team_ids")
    if any(not t.region_id.startswith(county) for t in teams):
        raise RuleViolation(_("服务队须在本县（区）内。"), field="team_ids")
    skills = list(Skill.objects.filter(pk__in=data.skill_ids))
    values = {
        "title": title,
        "work_item": data.work_item,
        "subcategory": subcategory,
        "description": clean_text(
            data.description, field="description", label=_("服务说明"), max_length=DESCRIPTION_MAX
        ),
        "delivery_mode": data.delivery_mode,
        "response_hours": data.response_hours,
        "complete_hours": data.complete_hours,
        "is_active": bool(data.is_active),
        "_teams": teams,
        "_skills": skills,
    }
    return unit, values


@transaction.atomic
def menu_item_save(*, actor: Actor, data: MenuItemInput, item: MenuItem | None = None) -> MenuItem:
    """Create or edit a menu item: staff with DEMAND_MANAGE over the unit. Titles are
    unique per unit; the service code never changes."""
    unit, values = _clean_menu(data)
    require(actor, Perm.DEMAND_MANAGE, unit.region_id, view_perm=Perm.DEMAND_VIEW)
    if item is not None:
        require(actor, Perm.DEMAND_MANAGE, item.region_id, view_perm=Perm.DEMAND_VIEW)
    teams, skills = values.pop("_teams"), values.pop("_skills")
    clash = MenuItem.objects.filter(unit=unit, title=values["title"])
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise RuleViolation(_("本单位已有同名的服务项目。"), field="title")
    if item is None:
        item = MenuItem(unit=unit, region_id=unit.region_id, code=_menu_code(), **values)
        verb = "menu.create"
    else:
        item = MenuItem.objects.select_for_update().get(pk=item.pk)
        item.unit, item.region_id = unit, unit.region_id
        for name, value in values.items():
            setattr(item, name, value)
        verb = "menu.update"
    item.save()
    item.teams.set(teams)
    item.skills.set(skills)
    audit_record(
        actor=actor,
        verb=verb,
        target=item,
        region_code=item.region_id,
        changes={"title": [None, item.title], "teams": [None, [t.pk for t in teams]]},
    )
    return item
