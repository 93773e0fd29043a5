"""Statistical region codes (统计用区划代码): 12 digits, 2 province, 2 city, 2 county,
3 town, 3 village. A code's *prefix* is the code with its unused trailing segments
dropped: 江苏省 320000000000 → "32", 贾汪区 320305000000 → "320305". Everything under a
region is exactly the set of codes that start with its prefix.
"""

from __future__ import annotations

import enum
import re

from django.utils.translation import gettext_lazy as _

CODE_LENGTH = 12
_CODE_RE = re.compile(r"[0-9]{12}")  # used with fullmatch: "$" would let a "\n" through
# Cumulative end offsets of the segments: province, city, county, town, village.
SEGMENT_ENDS = (2, 4, 6, 9, 12)


class Level(enum.IntEnum):
    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWN = 4
    VILLAGE = 5

    @property
    def label(self) -> str:
        return str(LEVEL_LABELS[self])


LEVEL_LABELS = {
    Level.PROVINCE: _("省"),
    Level.CITY: _("市"),
    Level.COUNTY: _("县（区）"),
    Level.TOWN: _("乡镇（街道）"),
    Level.VILLAGE: _("村（社区）"),
}


class InvalidRegionCode(ValueError):
    pass


def normalize(code: str) -> str:
    """Pad a 2/4/6/9/12-digit code to 12 digits and check it; raise InvalidRegionCode."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) not in SEGMENT_ENDS:
        raise InvalidRegionCode(code)
    full = code.ljust(CODE_LENGTH, "0")
    level_of(full)  # rejects codes with a zero segment above a non-zero one
    return full


def is_valid(code: str) -> bool:
    try:
        return normalize(code) == code
    except InvalidRegionCode:
        return False


def level_of(code: str) -> Level:
    """The level of a 12-digit code: the deepest segment that is not all zeros."""
    if not _CODE_RE.fullmatch(code) or code[:2] == "00":
        raise InvalidRegionCode(code)
    level = Level.PROVINCE
    start = 2
    seen_zero = False
    for index, end in enumerate(SEGMENT_ENDS[1:], start=2):
        segment = code[start:end]
        if int(segment) == 0:
            seen_zero = True
        elif seen_zero:
            # A non-zero segment below a zero one (e.g. 320005...) is not a real code.
            raise InvalidRegionCode(code)
        else:
            level = Level(index)
        start = end
    return level


def prefix_of(code: str) -> str:
    """The significant digits of a code: everything in its subtree starts with them."""
    return code[: SEGMENT_ENDS[level_of(code) - 1]]


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == Level.PROVINCE:
        return None
    return code[: SEGMENT_ENDS[level - 2]].ljust(CODE_LENGTH, "0")


def ancestors_of(code: str) -> list[str]:
    """Codes of all ancestors, from the province down (the code itself excluded)."""
    result = []
    parent = parent_of(code)
    while parent is not None:
        result.append(parent)
        parent = parent_of(parent)
    return list(reversed(result))


def is_within(code: str, prefix: str) -> bool:
    return code.startswith(prefix)


def prefix_at(code: str, level: Level) -> str:
    """The prefix of `code`'s ancestor at `level` (or of the code itself at its own
    level): 320305005204 at COUNTY → "320305", at TOWN → "320305005". No check of the
    code: callers pass codes read from the database."""
    return code[: SEGMENT_ENDS[level - 1]]


def county_prefix(code: str) -> str:
    """The county's 6 digits: volunteer and certificate numbers start with them."""
    return prefix_at(code, Level.COUNTY)


def town_prefix(code: str) -> str:
    return prefix_at(code, Level.TOWN)


def code_at(code: str, level: Level) -> str:
    """The 12-digit code of `code`'s ancestor at `level`: 320305005204 → 320305000000."""
    return prefix_at(code, level).ljust(CODE_LENGTH, "0")


def county_of(code: str) -> str:
    return code_at(code, Level.COUNTY)


def same_at(a: str, b: str, level: Level) -> bool:
    """Whether two codes share their ancestor at `level` (same town, same county)."""
    return prefix_at(a, level) == prefix_at(b, level)


def child_prefix_length(prefix: str) -> int:
    """How long the prefixes of a region's children are: "320305" (a county) → 9."""
    for end in SEGMENT_ENDS:
        if end > len(prefix):
            return end
    raise InvalidRegionCode(prefix)
