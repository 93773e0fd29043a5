"""Region codes: parsing, levels, prefixes, parents and ancestors."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wenming.core import regions as rc
from wenming.core.regions import InvalidRegionCode, Level

SEGMENT_LENGTHS = (2, 2, 2, 3, 3)


@st.composite
def valid_codes(draw: st.DrawFn, level: int | None = None) -> str:
    """A well-formed 12-digit code: non-zero segments down to its level, zeros below."""
    depth = level or draw(st.integers(min_value=1, max_value=5))
    segments = []
    for index, length in enumerate(SEGMENT_LENGTHS, start=1):
        if index <= depth:
            segments.append(str(draw(st.integers(1, 10**length - 1))).zfill(length))
        else:
            segments.append("0" * length)
    return "".join(segments)


@st.composite
def holed_codes(draw: st.DrawFn) -> str:
    """A 12-digit code with a non-zero segment below an all-zero one (not a real code)."""
    code = list(draw(valid_codes()))
    zero_index = draw(st.integers(1, 3))  # city, county or town zeroed...
    below = draw(st.integers(zero_index + 1, 4))  # ...with something non-zero under it
    starts = (0, 2, 4, 6, 9, 12)
    for i in range(starts[zero_index], starts[zero_index + 1]):
        code[i] = "0"
    code[starts[below + 1] - 1] = draw(st.sampled_from("123456789"))
    return "".join(code)


# ---------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("raw", "full", "level", "prefix", "parent"),
    [
        ("32", "320000000000", Level.PROVINCE, "32", None),
        ("3203", "320300000000", Level.CITY, "3203", "320000000000"),
        ("320305", "320305000000", Level.COUNTY, "320305", "320300000000"),
        ("320305005", "320305005000", Level.TOWN, "320305005", "320305000000"),
        ("320305005204", "320305005204", Level.VILLAGE, "320305005204", "320305005000"),
        (" 320305 ", "320305000000", Level.COUNTY, "320305", "320300000000"),
        ("320305000000", "320305000000", Level.COUNTY, "320305", "320300000000"),
        # Segments that are non-zero even though they start with zeros.
        ("110101001001", "110101001001", Level.VILLAGE, "110101001001", "110101001000"),
        ("1101", "110100000000", Level.CITY, "1101", "110000000000"),
    ],
)
def test_known_codes(raw, full, level, prefix, parent):
    assert rc.normalize(raw) == full
    assert rc.level_of(full) is level
    assert rc.prefix_of(full) == prefix
    assert rc.parent_of(full) == parent
    assert rc.is_valid(full)


def test_ancestors_of_a_village_from_province_down():
    assert rc.ancestors_of("320305005204") == [
        "320000000000",
        "320300000000",
        "320305000000",
        "320305005000",
    ]
    assert rc.ancestors_of("320000000000") == []


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "3",  # odd lengths are not a segment boundary
        "320",
        "32030",
        "3203050",
        "32030500",
        "3203050050",
        "32030500520",
        "3203050052041",  # 13 digits
        "32a305000000",
        "abcdefghijkl",
        "3203-5000000",
        "+32030500000",
        "00",  # no province
        "000000000000",
        "320005000000",  # county under a zero city
        "320300001000",  # town under a zero county
        "320305000204",  # village under a zero town
        "３２",  # full-width digits are digits to str.isdigit, not to a region code
        "３２０３０５００００００",
        "²²",
    ],
)
def test_invalid_codes_are_refused(raw):
    with pytest.raises(InvalidRegionCode):
        rc.normalize(raw)
    assert not rc.is_valid(raw)


@pytest.mark.parametrize(
    "code",
    [
        "32030500000",
        "3203050000000",
        "32030500000a",
        "000000000000",
        "003205000000",
        "320005000000",
        "320305000204",
        "320305000000\n",  # a trailing newline is not part of a code
        "３２０３０５００００００",
    ],
)
def test_level_of_refuses_malformed_12_digit_input(code):
    for func in (rc.level_of, rc.prefix_of, rc.parent_of, rc.ancestors_of):
        with pytest.raises(InvalidRegionCode):
            func(code)


def test_is_valid_wants_the_full_normal_form():
    assert rc.is_valid("320305000000")
    assert not rc.is_valid("320305")  # valid prefix, but not a 12-digit code
    assert not rc.is_valid(" 320305000000")


def test_is_within_is_prefix_containment():
    assert rc.is_within("320305005204", "320305")
    assert rc.is_within("320305005204", "320305005204")
    assert not rc.is_within("320311001001", "320305")
    assert not rc.is_within("320305", "320305005")


def test_level_labels():
    assert Level.TOWN.label == "乡镇（街道）"
    assert Level.VILLAGE.label == "村（社区）"


# ---------------------------------------------------------------- properties


@given(valid_codes())
def test_valid_codes_round_trip(code):
    assert rc.normalize(code) == code
    assert rc.is_valid(code)
    prefix = rc.prefix_of(code)
    assert code.startswith(prefix)
    assert len(prefix) == rc.SEGMENT_ENDS[rc.level_of(code) - 1]
    # The prefix is the shortest significant form: it normalizes back to the code.
    assert rc.normalize(prefix) == code
    assert code[len(prefix) :] == "0" * (12 - len(prefix))


@given(st.integers(1, 5).flatmap(lambda level: st.tuples(st.just(level), valid_codes(level))))
def test_level_is_the_deepest_non_zero_segment(level_and_code):
    level, code = level_and_code
    assert rc.level_of(code) == level


@given(valid_codes())
def test_every_ancestor_prefix_is_a_prefix_of_the_code(code):
    ancestors = rc.ancestors_of(code)
    level = rc.level_of(code)
    assert len(ancestors) == level - 1
    assert [rc.level_of(a) for a in ancestors] == list(range(1, level))
    for ancestor in ancestors:
        assert rc.is_valid(ancestor)
        assert code.startswith(rc.prefix_of(ancestor))
        assert rc.prefix_of(ancestor) != rc.prefix_of(code)
    if ancestors:
        assert ancestors[-1] == rc.parent_of(code)


@given(valid_codes())
def test_parent_chain_of_a_prefix_ends_at_its_province(code):
    current: str | None = rc.normalize(rc.prefix_of(code))
    chain = []
    while current is not None:
        chain.append(current)
        current = rc.parent_of(current)
    assert rc.level_of(chain[-1]) is Level.PROVINCE
    assert chain[-1] == code[:2] + "0" * 10
    assert len(chain) == rc.level_of(code)
    # Each step goes up exactly one level and stays a prefix of the child.
    for child, parent in itertools.pairwise(chain):
        assert rc.level_of(parent) == rc.level_of(child) - 1
        assert child.startswith(rc.prefix_of(parent))


@given(holed_codes())
def test_a_non_zero_segment_under_a_zero_one_is_invalid(code):
    with pytest.raises(InvalidRegionCode):
        rc.level_of(code)
    with pytest.raises(InvalidRegionCode):
        rc.normalize(code)


@given(st.text(max_size=14))
def test_normalize_either_refuses_or_gives_a_valid_code_starting_with_the_input(raw):
    try:
        full = rc.normalize(raw)
    except InvalidRegionCode:
        return
    assert rc.is_valid(full)
    assert full.startswith(raw.strip())
    assert len(raw.strip()) in rc.SEGMENT_ENDS


@pytest.mark.parametrize(
    ("code", "level", "prefix", "full"),
    [
        ("320305005204", rc.Level.COUNTY, "320305", "320305000000"),
        ("320305005204", rc.Level.TOWN, "320305005", "320305005000"),
        ("320305005204", rc.Level.CITY, "3203", "320300000000"),
        ("320305005204", rc.Level.VILLAGE, "320305005204", "320305005204"),
    ],
)
def test_ancestor_prefixes_and_codes(code, level, prefix, full):
    assert rc.prefix_at(code, level) == prefix
    assert rc.code_at(code, level) == full


def test_county_and_town_helpers():
    assert rc.county_prefix("320305005204") == "320305"
    assert rc.town_prefix("320305005204") == "320305005"
    assert rc.county_of("320305005204") == "320305000000"
    assert rc.same_at("320305005204", "320305005200", rc.Level.TOWN)
    assert not rc.same_at("320305005204", "320305102200", rc.Level.TOWN)
    assert rc.same_at("320305005204", "320305102200", rc.Level.COUNTY)


@pytest.mark.parametrize(
    ("prefix", "length"), [("32", 4), ("3203", 6), ("320305", 9), ("320305005", 12)]
)
def test_child_prefix_length(prefix, length):
    assert rc.child_prefix_length(prefix) == length


def test_a_village_has_no_children():
    with pytest.raises(rc.InvalidRegionCode):
        rc.child_prefix_length("320305005204")
