"""Star levels (星级): the thresholds in hours that apply to a region, and the level a
number of confirmed minutes reaches. Read by the services (which store the level) and the
selectors (which show the thresholds)."""

from __future__ import annotations

from collections.abc import Sequence

from wenming.core import regions as rc
from wenming.volunteers.models import StarPolicy

DEFAULT_STAR_HOURS: tuple[int, ...] = (100, 300, 600, 1000, 1500)


def star_level_for(minutes: int, thresholds_hours: Sequence[int]) -> int:
    level = 0
    for index, hours in enumerate(thresholds_hours, start=1):
        if minutes >= hours * 60:
            level = index
    return level


def star_thresholds_for(region_code: str) -> tuple[int, ...]:
    """The nearest star policy up the region tree, else the defaults."""
    codes = [*rc.ancestors_of(region_code), region_code]
    policies = {p.region_id: p for p in StarPolicy.objects.filter(region_id__in=codes)}
    for code in reversed(codes):
        if code in policies:
            return tuple(policies[code].thresholds)
    return DEFAULT_STAR_HOURS
