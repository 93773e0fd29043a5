"""Candidate ranking for dispatch (派单推荐): who should serve an order, and why.

Each candidate (an active team in the order's county, or an active volunteer living in
the order's town) gets points per factor; the score is their sum and the dispatcher
sees every factor with its reason:

| factor | points |
|---|---|
| 距离 proximity | same village 40, same town 25, same county 10 |
| 类别 category | a providing team of the menu item 25; has done orders of the same work item 10 |
| 技能 skills | share of the menu item's skills that the team's members (the volunteer) hold × 15 |
| 负荷 current load | −5 per order dispatched to or being served by them now, at most −20 |
| 评价 past rating | (average stars − 3) × 5, from −10 to +10; none yet 0 |
| 响应 response rate | share of dispatches they accepted × 10; no history 5 |

Ties go to the name, so the order is stable. All figures are computed with a fixed
number of queries, whatever the number of candidates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count
from django.utils.translation import gettext as _

from wenming.core import regions as rc
from wenming.core.access import subtree_q
from wenming.demands.models import DONE_STATES, MenuItem, Order, OrderEvent, OrderState
from wenming.volunteers.models import Membership, MembershipStatus, Team, Volunteer, VolunteerStatus

MAX_CANDIDATES = 10
MAX_VOLUNTEERS = 50
LOAD_STATES = (OrderState.DISPATCHED, OrderState.TAKEN)


@dataclass
class Factor:
    key: str
    label: str
    points: float
    detail: str


@dataclass
class Candidate:
    kind: str  # "team" or "volunteer"
    id: int
    name: str
    region_name: str
    factors: list[Factor] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(f.points for f in self.factors), 1)


def proximity(order_region: str, candidate_region: str) -> Factor:
    if candidate_region == order_region:
        return Factor("proximity", _("距离"), 40, _("同村（社区）"))
    if rc.same_at(candidate_region, order_region, rc.Level.TOWN):
        return Factor("proximity", _("距离"), 25, _("同镇（街道）"))
    if rc.same_at(candidate_region, order_region, rc.Level.COUNTY):
        return Factor("proximity", _("距离"), 10, _("同县（区）"))
    return Factor("proximity", _("距离"), 0, _("县外"))


def load(open_orders: int) -> Factor:
    return Factor(
        "load",
        _("负荷"),
        -min(5 * open_orders, 20),
        _("手头 %(n)s 单") % {"n": open_orders},
    )


def rating(average: float | None, count: int) -> Factor:
    if not count or average is None:
        return Factor("rating", _("评价"), 0, _("暂无评价"))
    return Factor(
        "rating",
        _("评价"),
        round((average - 3) * 5, 1),
        _("%(n)s 次评价，平均 %(a).1f 星") % {"n": count, "a": average},
    )


def response(dispatched: int, taken: int) -> Factor:
    if not dispatched:
        return Factor("response", _("响应"), 5, _("暂无派单记录"))
    rate = min(taken / dispatched, 1.0)
    return Factor(
        "response",
        _("响应"),
        round(rate * 10, 1),
        _("接单 %(t)s / 派单 %(d)s") % {"t": min(taken, dispatched), "d": dispatched},
    )


def skills(required: set[int], held: set[int]) -> Factor:
    if not required:
        return Factor("skills", _("技能"), 0, _("未设所需技能"))
    share = len(required & held) / len(required)
    return Factor(
        "skills",
        _("技能"),
        round(share * 15, 1),
        _("具备 %(h)s / %(r)s 项") % {"h": len(required & held), "r": len(required)},
    )


def category(providing: bool, same_item_done: bool, *, member: bool = False) -> Factor:
    if providing:
        detail = _("菜单指定服务队的队员") if member else _("菜单指定服务队")
        return Factor("category", _("类别"), 25, detail)
    if same_item_done:
        return Factor("category", _("类别"), 10, _("做过同类服务"))
    return Factor("category", _("类别"), 0, _("类别不符"))


def _counts(rows: list[tuple[int | None, int]]) -> dict[int, int]:
    return {k: v for k, v in rows if k is not None}


def rank_candidates(order: Order, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The best `limit` teams and volunteers for `order`, best first."""
    county = rc.county_prefix(order.region_id)
    teams = list(
        Team.objects.filter(subtree_q("region", county), is_active=True)
        .select_related("region")
        .order_by("id")
    )
    volunteers = list(
        Volunteer.objects.filter(
            subtree_q("region", rc.town_prefix(order.region_id)), status=VolunteerStatus.ACTIVE
        )
        .select_related("region")
        .order_by("id")[:MAX_VOLUNTEERS]
    )
    team_ids = [t.pk for t in teams]
    vol_ids = [v.pk for v in volunteers]
    required: set[int] = set()
    providing: set[int] = set()
    if order.menu_item_id:
        required = set(
            MenuItem.skills.through.objects.filter(menuitem_id=order.menu_item_id).values_list(
                "skill_id", flat=True
            )
        )
        providing = set(
            MenuItem.teams.through.objects.filter(menuitem_id=order.menu_item_id).values_list(
                "team_id", flat=True
            )
        )
    team_skills: dict[int, set[int]] = defaultdict(set)
    vol_skills: dict[int, set[int]] = defaultdict(set)
    vol_teams: dict[int, set[int]] = defaultdict(set)
    if required:
        for team_id, skill_id in Membership.objects.filter(
            team_id__in=team_ids, status=MembershipStatus.ACTIVE
        ).values_list("team_id", "volunteer__skills"):
            if skill_id is not None:
                team_skills[team_id].add(skill_id)
        for vol_id, skill_id in Volunteer.skills.through.objects.filter(
            volunteer_id__in=vol_ids
        ).values_list("volunteer_id", "skill_id"):
            vol_skills[vol_id].add(skill_id)
    for vol_id, team_id in Membership.objects.filter(
        volunteer_id__in=vol_ids, status=MembershipStatus.ACTIVE, team_id__in=providing
    ).values_list("volunteer_id", "team_id"):
        vol_teams[vol_id].add(team_id)

    def per(field_name: str, ids: list[int], **filters: object) -> dict[int, int]:
        rows = (
            Order.objects.filter(**{f"{field_name}__in": ids}, **filters)
            .values_list(field_name)
            .annotate(n=Count("id"))
        )
        return _counts(list(rows))

    def ratings(field_name: str, ids: list[int]) -> dict[int, tuple[float, int]]:
        rows = (
            Order.objects.filter(**{f"{field_name}__in": ids}, state=OrderState.RATED)
            .values_list(field_name)
            .annotate(avg=Avg("rating"), n=Count("id"))
        )
        return {k: (float(a), n) for k, a, n in rows if k is not None}

    def events(field_name: str, ids: list[int], action: str) -> dict[int, int]:
        rows = (
            OrderEvent.objects.filter(**{f"{field_name}__in": ids}, action=action)
            .values_list(field_name)
            .annotate(n=Count("id"))
        )
        return _counts(list(rows))

    team_load = per("assigned_team_id", team_ids, state__in=LOAD_STATES)
    vol_load = per("assigned_volunteer_id", vol_ids, state__in=LOAD_STATES)
    same_item: set[int] = set()
    vol_same_item: set[int] = set()
    if order.work_item:
        same_item = set(
            per("assigned_team_id", team_ids, state__in=DONE_STATES, work_item=order.work_item)
        )
        vol_same_item = set(
            per("assigned_volunteer_id", vol_ids, state__in=DONE_STATES, work_item=order.work_item)
        )
    team_rating = ratings("assigned_team_id", team_ids)
    vol_rating = ratings("assigned_volunteer_id", vol_ids)
    team_dispatched = events("team_id", team_ids, "dispatch")
    team_taken = events("team_id", team_ids, "take")
    vol_dispatched = events("volunteer_id", vol_ids, "dispatch")
    vol_taken = events("volunteer_id", vol_ids, "take")

    result: list[Candidate] = []
    for t in teams:
        avg, n = team_rating.get(t.pk, (None, 0))
        result.append(
            Candidate(
                "team",
                t.pk,
                t.name,
                t.region.name,
                [
                    proximity(order.region_id, t.region_id),
                    category(t.pk in providing, t.pk in same_item),
                    skills(required, team_skills[t.pk]),
                    load(team_load.get(t.pk, 0)),
                    rating(avg, n),
                    response(team_dispatched.get(t.pk, 0), team_taken.get(t.pk, 0)),
                ],
            )
        )
    for v in volunteers:
        avg, n = vol_rating.get(v.pk, (None, 0))
        result.append(
            Candidate(
                "volunteer",
                v.pk,
                v.name,
                v.region.name,
                [
                    proximity(order.region_id, v.region_id),
                    category(bool(vol_teams[v.pk]), v.pk in vol_same_item, member=True),
                    skills(required, vol_skills[v.pk]),
                    load(vol_load.get(v.pk, 0)),
                    rating(avg, n),
                    response(vol_dispatched.get(v.pk, 0), vol_taken.get(v.pk, 0)),
                ],
            )
        )
    result.sort(key=lambda c: (-c.score, c.kind, c.name, c.id))
    return result[:limit]
