"""Reads about volunteers, scoped to the actor (VOLUNTEER_VIEW over the volunteer's
home region). Lists never decrypt anything: they show the masked forms."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.access import scoped, subtree_q
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.figures import by_child
from wenming.core.home import HomeCounter
from wenming.core.registry import Period
from wenming.core.roles import Perm
from wenming.volunteers.models import MembershipStatus, Volunteer, VolunteerStatus
from wenming.volunteers.teams.selectors import team_count

AUDIT_VERBS = {
    "volunteer.register": pgettext_lazy("audit verb", "志愿者注册"),
    "volunteer.review": pgettext_lazy("audit verb", "审核志愿者"),
    "volunteer.reveal": pgettext_lazy("audit verb", "查看个人信息"),
    "volunteer.update": pgettext_lazy("audit verb", "修改志愿者信息"),
    "volunteer.suspend": pgettext_lazy("audit verb", "停用志愿者"),
    "volunteer.restore": pgettext_lazy("audit verb", "恢复志愿者"),
    "volunteer.star_policy": pgettext_lazy("audit verb", "设置星级标准"),
    "volunteer.registration_policy": pgettext_lazy("audit verb", "设置注册审核"),
    "team.create": pgettext_lazy("audit verb", "新建服务队"),
    "team.update": pgettext_lazy("audit verb", "修改服务队"),
    "team.join_request": pgettext_lazy("audit verb", "申请加入服务队"),
    "team.membership_approve": pgettext_lazy("audit verb", "批准入队"),
    "team.membership_reject": pgettext_lazy("audit verb", "拒绝入队申请"),
    "team.leave": pgettext_lazy("audit verb", "退出服务队"),
    "team.membership_remove": pgettext_lazy("audit verb", "移出队员"),
    "team.leader_appoint": pgettext_lazy("audit verb", "任命队长"),
    "team.leader_dismiss": pgettext_lazy("audit verb", "免去队长"),
}


def volunteer_list(
    *,
    actor: Actor,
    search: str = "",
    region_prefix: str = "",
    status: str = "",
    skill_id: int | None = None,
    star: int | None = None,
    team_id: int | None = None,
) -> QuerySet[Volunteer]:
    """Search: a name (contains), a volunteer number (exact), or a phone number (exact,
    through its keyed hash; nothing is decrypted). `team_id`: the team's active members
    (one open membership per team and volunteer, so the join adds no duplicate rows)."""
    qs = scoped(Volunteer.objects.all(), actor, Perm.VOLUNTEER_VIEW, "region_id")
    search = search.strip()
    if search:
        match = Q(name__icontains=search) | Q(number=search)
        with contextlib.suppress(RuleViolation):  # not a phone number: name or number only
            match |= Q(phone_digest__in=crypto.digests(normalize_phone(search)))
        qs = qs.filter(match)
    if region_prefix:
        qs = qs.filter(subtree_q("region_id", region_prefix))
    if status:
        qs = qs.filter(status=status)
    if skill_id:
        qs = qs.filter(skills__id=skill_id)
    if star is not None:
        qs = qs.filter(star_level=star)
    if team_id:
        qs = qs.filter(memberships__team_id=team_id, memberships__status=MembershipStatus.ACTIVE)
    return qs.select_related("region", "unit").order_by("-created_at", "-id")


def volunteer_get(*, actor: Actor, volunteer_id: int) -> Volunteer:
    try:
        return (
            scoped(Volunteer.objects.all(), actor, Perm.VOLUNTEER_VIEW, "region_id")
            .select_related("region", "unit", "user")
            .prefetch_related("skills", "service_regions")
            .get(pk=volunteer_id)
        )
    except Volunteer.DoesNotExist as exc:
        raise NotFound(_("找不到该志愿者，或其不在您的管辖范围内。")) from exc


def volunteer_of_user(user: Any) -> Volunteer | None:
    """The volunteer record of a logged-in user (their own: no scope needed)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Volunteer.objects.filter(user=user)
        .select_related("region", "unit")
        .prefetch_related("skills", "service_regions")
        .first()
    )


def _count(status: str) -> Any:
    def count(actor: Actor) -> int:
        return scoped(
            Volunteer.objects.filter(status=status), actor, Perm.VOLUNTEER_VIEW, "region_id"
        ).count()

    return count


def home_counters() -> list[HomeCounter]:
    return [
        HomeCounter(
            "volunteers.active",
            pgettext_lazy("home counter", "注册志愿者"),
            Perm.VOLUNTEER_VIEW,
            _count(VolunteerStatus.ACTIVE),
            "volunteers:list",
            20,
        ),
        HomeCounter(
            "volunteers.pending",
            pgettext_lazy("home counter", "待审核注册"),
            Perm.VOLUNTEER_VIEW,
            _count(VolunteerStatus.PENDING),
            "volunteers:list",
            21,
        ),
        HomeCounter(
            "volunteers.teams",
            pgettext_lazy("home counter", "志愿服务队"),
            Perm.VOLUNTEER_VIEW,
            team_count,
            "teams:list",
            22,
        ),
    ]


def registration_policy_units(*, actor: Actor, search: str = "") -> Any:
    """The units where volunteers register (not practice points) that the actor manages,
    each annotated with `approval_required` (no policy row means no approval)."""
    from django.db.models import BooleanField, Value
    from django.db.models.functions import Coalesce

    from wenming.network.models import Unit, UnitKind

    qs = scoped(
        Unit.objects.exclude(kind=UnitKind.POINT), actor, Perm.VOLUNTEER_MANAGE, "region_id"
    )
    if search:
        qs = qs.filter(name__icontains=search)
    return (
        qs.select_related("region")
        .annotate(
            approval_required=Coalesce(
                "registration_policy__approval_required", Value(False), output_field=BooleanField()
            )
        )
        .order_by("region_id", "kind")
    )


def star_policy_regions(*, actor: Actor) -> list[tuple[Any, tuple[int, ...]]]:
    """The jurisdictions (province, city or county) whose star thresholds the actor may
    set, each with the thresholds now in force there."""
    from wenming.core import regions as rc
    from wenming.core.access import prefixes_for
    from wenming.network.models import Region
    from wenming.volunteers.stars import star_thresholds_for

    codes = [
        rc.normalize(p)
        for p in prefixes_for(actor, Perm.VOLUNTEER_MANAGE)
        if rc.level_of(rc.normalize(p)) <= rc.Level.COUNTY
    ]
    return [
        (region, star_thresholds_for(region.code))
        for region in Region.objects.filter(code__in=codes).order_by("code")
    ]


def region_filter_options(*, actor: Actor, prefix: str) -> tuple[Any, list[tuple[str, str]]]:
    """The region filter of the volunteer list, one level at a time: the region chosen
    now (None for all) and the sub-regions to narrow to (value = code prefix). Bounded:
    never more than one level of children."""
    from wenming.core import regions as rc
    from wenming.network.models import Region

    current = None
    if prefix:
        with contextlib.suppress(rc.InvalidRegionCode):
            code = rc.normalize(prefix)
            current = (
                scoped(Region.objects.all(), actor, Perm.VOLUNTEER_VIEW, "code")
                .filter(code=code)
                .first()
            )
    if current is not None:
        parents = [current.code]
    else:
        roots = [rc.normalize(p) for p in prefixes_for_view(actor)]
        if len(roots) != 1:
            names = dict(Region.objects.filter(code__in=roots).values_list("code", "name"))
            return None, [(rc.prefix_of(c), names.get(c, c)) for c in sorted(roots)]
        parents = roots
    children = Region.objects.filter(parent_id__in=parents).order_by("code")
    return current, [(rc.prefix_of(r.code), r.name) for r in children.only("code", "name")]


def prefixes_for_view(actor: Actor) -> list[str]:
    from wenming.core.access import prefixes_for

    return prefixes_for(actor, Perm.VOLUNTEER_VIEW)


def registered_by_child(prefix: str, period: Period) -> dict[str, float]:
    """Registered (active) volunteers by child region, registered by the period's end."""
    _start, stop = period.bounds()
    rows = Volunteer.objects.filter(status=VolunteerStatus.ACTIVE, created_at__lt=stop)
    return by_child(rows, "region_id", prefix, Count("id"))


def has_volunteer_record(user: Any) -> bool:
    """Whether a signed-in person has a volunteer record (any status): the VOLUNTEER
    audience of the menu and home page."""
    return Volunteer.objects.filter(user_id=user.pk).exists()
