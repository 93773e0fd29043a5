"""Reads about volunteers, scoped to the actor (VOLUNTEER_VIEW over the volunteer's
home region). Lists never decrypt anything: they show the masked forms."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.phones import normalize_phone
from wenming.core import crypto
from wenming.core.access import scoped, subtree_q
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.home import HomeCounter
from wenming.core.roles import Perm
from wenming.volunteers.models import Volunteer, VolunteerStatus

AUDIT_VERBS = {
    "volunteer.register": pgettext_lazy("audit verb", "志愿者注册"),
    "volunteer.review": pgettext_lazy("audit verb", "审核志愿者"),
    "volunteer.reveal": pgettext_lazy("audit verb", "查看个人信息"),
    "volunteer.update": pgettext_lazy("audit verb", "修改志愿者信息"),
    "volunteer.star_policy": pgettext_lazy("audit verb", "设置星级标准"),
}


def volunteer_list(
    *,
    actor: Any,
    search: str = "",
    region_prefix: str = "",
    status: str = "",
    skill_id: int | None = None,
    star: int | None = None,
) -> QuerySet[Volunteer]:
    """Search: a name (contains), a volunteer number (exact), or a phone number (exact,
    through its keyed hash; nothing is decrypted)."""
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
    return qs.select_related("region", "unit").order_by("-created_at", "-id")


def volunteer_get(*, actor: Any, volunteer_id: int) -> Volunteer:
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
    def count(actor: Any) -> int:
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
    ]
