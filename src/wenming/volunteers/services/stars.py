"""Star levels (星级) kept with the confirmed hours: the policy of a place, recomputing a
subtree, and the hook the service ledger calls."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import regions as rc
from wenming.core.access import require, subtree_q
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.network.models import Region
from wenming.volunteers.models import (
    StarPolicy,
    Volunteer,
)
from wenming.volunteers.stars import star_level_for, star_thresholds_for

# ---------------------------------------------------------------- star levels


def _star_case(thresholds_hours: Sequence[int]) -> Case:
    return Case(
        *[
            When(confirmed_minutes__gte=hours * 60, then=Value(level))
            for level, hours in reversed(list(enumerate(thresholds_hours, start=1)))
        ],
        default=Value(0),
        output_field=IntegerField(),
    )


def stars_recompute(*, region_code: str) -> int:
    """Recompute the star level of every volunteer under `region_code`, each by the
    policy nearest to it: one UPDATE per policy in the subtree."""
    prefix = rc.prefix_of(region_code)
    inner = sorted(
        StarPolicy.objects.filter(subtree_q("region_id", prefix)).values_list(
            "region_id", "thresholds"
        ),
        key=lambda p: len(rc.prefix_of(p[0])),
    )
    scopes: list[tuple[str, Sequence[int]]] = [(region_code, star_thresholds_for(region_code))]
    scopes += [(code, thresholds) for code, thresholds in inner if code != region_code]
    updated = 0
    for index, (code, thresholds) in enumerate(scopes):
        deeper = [
            c for c, _t in scopes[index + 1 :] if rc.prefix_of(c).startswith(rc.prefix_of(code))
        ]
        qs = Volunteer.objects.filter(subtree_q("region_id", rc.prefix_of(code)))
        for other in deeper:
            qs = qs.exclude(subtree_q("region_id", rc.prefix_of(other)))
        updated += qs.update(star_level=_star_case(thresholds))
    return updated


@transaction.atomic
def star_policy_set(*, actor: Actor, region_code: str, thresholds: Sequence[int]) -> StarPolicy:
    """Set the star thresholds (hours for one to five stars, strictly increasing) for a
    jurisdiction and recompute the stars under it."""
    require(actor, Perm.VOLUNTEER_MANAGE, region_code, view_perm=Perm.VOLUNTEER_VIEW)
    if not rc.is_valid(region_code) or rc.level_of(region_code) > rc.Level.COUNTY:
        raise Forbidden(_("星级标准只能按省、市、县（区）设置。"))
    try:
        values = [int(v) for v in thresholds]
    except (TypeError, ValueError):  # "abc" from a form or API was a server error
        values = []
    if len(values) != 5 or values[0] <= 0 or any(b <= a for a, b in itertools.pairwise(values)):
        raise RuleViolation(_("请填写 5 个逐级递增的正整数小时数。"), field="thresholds")
    try:
        region = Region.objects.get(code=region_code)
    except Region.DoesNotExist as exc:
        raise NotFound(_("找不到该区划。")) from exc
    policy, _created = StarPolicy.objects.get_or_create(
        region=region, defaults={"thresholds": values}
    )
    before = policy.thresholds if not _created else None
    if not _created:
        policy.thresholds = values
        policy.save(update_fields=["thresholds"])
    stars_recompute(region_code=region_code)
    audit_record(
        actor=actor,
        verb="volunteer.star_policy",
        target=policy,
        region_code=region_code,
        changes={"thresholds": [before, values]},
    )
    return policy


def volunteer_hours_changed(*, volunteer_id: int, delta_minutes: int) -> None:
    """Called by the service-record ledger when confirmed hours change: add the delta
    atomically (F expression) and recompute the star level."""
    from django.db.models import F

    Volunteer.objects.filter(pk=volunteer_id).update(
        confirmed_minutes=F("confirmed_minutes") + delta_minutes
    )
    volunteer = Volunteer.objects.only("region_id", "confirmed_minutes").get(pk=volunteer_id)
    level = star_level_for(volunteer.confirmed_minutes, star_thresholds_for(volunteer.region_id))
    Volunteer.objects.filter(pk=volunteer_id).update(star_level=level)
