"""Shared helpers for the demands tests: a menu item, teams with leaders, orders in
any state, and a snapshot of everything a refused write must not change."""

from __future__ import annotations

from typing import Any

from tests.activities.helpers import volunteer_user
from tests.conftest import make_user
from tests.shared import rows
from wenming.core.roles import Role
from wenming.demands import services
from wenming.demands.models import MenuItem, Order, OrderEvent, OrderPhoto, OrderState
from wenming.notifications.models import Notification, OutboxMessage
from wenming.records.models import ServiceRecord
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamType,
    Volunteer,
)

RESIDENT_PHONE = "13912345678"


def team_type() -> TeamType:
    return TeamType.objects.get_or_create(name="文化文艺", defaults={"sort": 10})[0]


def make_team(unit: Any, name: str = "马庄文艺队") -> Team:
    return Team.objects.create(
        name=name, team_type=team_type(), unit=unit, region_id=unit.region_id
    )


def add_member(team: Team, volunteer: Volunteer, role: str = MembershipRole.MEMBER) -> Membership:
    return Membership.objects.create(
        team=team, volunteer=volunteer, role=role, status=MembershipStatus.ACTIVE
    )


def team_with_leader(staff: Any, unit: Any, n: int, name: str = "") -> tuple[Team, Any]:
    """A team at `unit` led by the n-th synthetic volunteer (who also gets a team
    leader role on the unit's region)."""
    team = make_team(unit, name or f"服务队{n}")
    user = volunteer_user(staff, n)
    from wenming.network.models import RoleGrant

    RoleGrant.objects.create(user=user, role=Role.TEAM_LEADER, region_id=unit.region_id)
    add_member(team, Volunteer.objects.get(user=user), MembershipRole.LEADER)
    return team, user


def menu_item(actor: Any, unit: Any, **overrides: Any) -> MenuItem:
    values: dict[str, Any] = {
        "unit_id": unit.pk,
        "title": "上门理发",
        "work_item": "values",
        "description": "为行动不便的老人上门理发",
        "delivery_mode": "home",
        "response_hours": 24,
        "complete_hours": 72,
    }
    values.update(overrides)
    return services.menu_item_save(actor=actor, data=services.MenuItemInput(**values))


def order_input(item: MenuItem | None = None, **overrides: Any) -> services.OrderInput:
    values: dict[str, Any] = {
        "name": "王大爷",
        "phone": RESIDENT_PHONE,
        "region_code": "320305005204",
        "menu_item_code": item.code if item else "",
        "kind": "menu" if item else "help",
        "address": "马庄村三组 12 号",
        "preferred_time": "周六上午",
        "details": "腿脚不便，想请人上门理发" if item else "家里水管坏了，请帮忙看看",
    }
    values.update(overrides)
    return services.OrderInput(**values)


def submit(item: MenuItem | None = None, ip: str = "10.0.0.1", **overrides: Any) -> Order:
    return services.order_submit(data=order_input(item, **overrides), ip=ip)


def state() -> tuple[Any, ...]:
    """Everything the demands services write, to assert that a refusal changed nothing."""
    return (
        *rows(Order, OrderEvent, OrderPhoto, ServiceRecord),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
    )


def resident() -> Any:
    return make_user("13700000001", "居民", Role.RESIDENT, "320305005204")


__all__ = ["OrderState"]
