"""The scoping helper: an actor sees exactly the subtrees under its grants' prefixes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user
from wenming.accounts.models import User
from wenming.core import regions as rc
from wenming.core.access import (
    forget_grants,
    grants_of,
    has_perm,
    in_scope,
    minimal_prefixes,
    prefixes_for,
    require,
    roles_of,
    scoped,
    subtree_q,
)
from wenming.core.errors import Forbidden, NotFound
from wenming.core.models import AuditEvent
from wenming.core.roles import ROLE_PERMS, Perm, Role
from wenming.network.models import Region, RoleGrant

# ---------------------------------------------------------------- random trees and grants

# Few choices per segment, so that trees share digits and nest in tricky ways
# (e.g. county "01" and town "011…" under different parents).
SEGMENT_CHOICES = (("32", "33"), ("01", "03", "11"), ("01", "05", "11"), ("001", "011", "101"))
VILLAGES = ("001", "011", "204")


@st.composite
def region_trees(draw: st.DrawFn) -> list[str]:
    """A set of 12-digit codes closed under parents (every region's parent is present)."""
    leaves = draw(
        st.lists(
            st.tuples(*(st.sampled_from(c) for c in SEGMENT_CHOICES), st.sampled_from(VILLAGES))
            .flatmap(lambda segs: st.integers(1, 5).map(lambda depth: segs[:depth]))
            .map("".join),
            min_size=1,
            max_size=12,
        )
    )
    codes: set[str] = set()
    for prefix in leaves:
        code = rc.normalize(prefix)
        codes.add(code)
        codes.update(rc.ancestors_of(code))
    return sorted(codes, key=lambda c: (rc.level_of(c), c))


@st.composite
def trees_with_grants(draw: st.DrawFn):
    codes = draw(region_trees())
    grants = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),  # which user (0 is the actor)
                st.sampled_from(Role.values),
                st.sampled_from(codes),
                st.booleans(),  # revoked
            ),
            max_size=8,
        )
    )
    active = draw(st.sampled_from([True, True, True, False]))  # the actor is mostly active
    return codes, grants, active


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """Everything written inside is undone, whatever happens: one example's rows never
    leak into the next."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def people(db) -> list[User]:
    return [
        make_user("13800000000", "甲"),
        make_user("13800000001", "乙"),
        make_user("13800000002", "丙"),
    ]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=trees_with_grants())
def test_scoped_is_exactly_the_codes_under_the_actors_permitted_grants(people, data):
    codes, grants, active = data
    with rolled_back():
        Region.objects.bulk_create(
            [
                Region(
                    code=code,
                    name=code,
                    level=int(rc.level_of(code)),
                    parent_id=rc.parent_of(code),
                )
                for code in codes
            ]
        )
        seen_active = set()
        for who, role, code, revoked in grants:
            if not revoked:
                if (who, role, code) in seen_active:
                    continue  # one active grant per user, role and region
                seen_active.add((who, role, code))
            RoleGrant.objects.create(
                user=people[who],
                role=role,
                region_id=code,
                revoked_at=timezone.now() if revoked else None,
            )
        if not active:
            User.objects.filter(pk=people[0].pk).update(is_active=False)
        actor = User.objects.get(pk=people[0].pk)  # fresh: no cached grants

        for perm in Perm:
            # Computed independently: plain string prefixes of the actor's live grants.
            prefixes = [
                code[: rc.SEGMENT_ENDS[rc.level_of(code) - 1]]
                for who, role, code, revoked in grants
                if who == 0 and not revoked and active and perm in ROLE_PERMS[role]
            ]
            expected = {c for c in codes if any(c.startswith(p) for p in prefixes)}

            got = set(
                scoped(Region.objects.all(), actor, perm, "code").values_list("code", flat=True)
            )
            assert got == expected, (perm, prefixes)
            # The same through a foreign-key column.
            via_fk = set(
                scoped(RoleGrant.objects.all(), actor, perm, "region_id").values_list(
                    "region_id", flat=True
                )
            )
            assert via_fk == {code for _, _, code, _ in grants if code in expected}
            assert has_perm(actor, perm) == bool(prefixes)
            for code in codes:
                assert in_scope(actor, perm, code) == (code in expected)


# ---------------------------------------------------------------- the cast


def _codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


ALL_CODES = {
    "320000000000",
    "320300000000",
    "320305000000",
    "320305005000",
    "320305005204",
    "320305005200",
    "320305102000",
    "320305102200",
    "320311000000",
    "320311001000",
    "320311001001",
}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("sysadmin", ALL_CODES),
        ("supervisor", ALL_CODES - {"320000000000"}),
        (
            "county_admin",
            {c for c in ALL_CODES if c.startswith("320305")},
        ),
        ("institute_admin", {"320305005000", "320305005204", "320305005200"}),
        ("station_admin", {"320305005204"}),
        ("team_leader", {"320305005000", "320305005204", "320305005200"}),
        ("volunteer", set()),  # volunteers hold no staff permission
        ("outsider", {"320311000000", "320311001000", "320311001001"}),
    ],
)
def test_network_view_scope_of_each_role(cast, who, expected):
    actor = getattr(cast, who)
    assert _codes(scoped(Region.objects.all(), actor, Perm.NETWORK_VIEW, "code")) == expected


def test_grants_are_loaded_once_per_user_object(cast, django_assert_num_queries):
    actor = User.objects.get(pk=cast.county_admin.pk)
    with django_assert_num_queries(1):
        assert grants_of(actor) == grants_of(actor)
        assert prefixes_for(actor, Perm.NETWORK_VIEW) == ["320305"]
        assert roles_of(actor) == {Role.COUNTY_ADMIN}
    forget_grants(actor)
    with django_assert_num_queries(1):
        grants_of(actor)


def test_revoked_grant_gives_no_scope(cast):
    RoleGrant.objects.filter(user=cast.county_admin).update(revoked_at=timezone.now())
    actor = User.objects.get(pk=cast.county_admin.pk)
    assert grants_of(actor) == []
    assert _codes(scoped(Region.objects.all(), actor, Perm.NETWORK_VIEW, "code")) == set()
    assert not has_perm(actor, Perm.NETWORK_VIEW)
    with pytest.raises(NotFound):
        require(actor, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)


def test_inactive_user_has_no_scope(cast):
    User.objects.filter(pk=cast.sysadmin.pk).update(is_active=False)
    actor = User.objects.get(pk=cast.sysadmin.pk)
    assert grants_of(actor) == []
    assert _codes(scoped(Region.objects.all(), actor, Perm.NETWORK_VIEW, "code")) == set()
    assert not actor.is_staff


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_anonymous_has_no_scope(net, actor):
    assert grants_of(actor) == []
    assert _codes(scoped(Region.objects.all(), actor, Perm.NETWORK_VIEW, "code")) == set()
    with pytest.raises(NotFound):
        require(actor, Perm.NETWORK_VIEW, "320305000000", view_perm=Perm.NETWORK_VIEW)


def test_two_grants_add_up_and_overlaps_collapse(cast):
    RoleGrant.objects.create(
        user=cast.station_admin, role=Role.STATION_ADMIN, region_id="320311001001"
    )
    RoleGrant.objects.create(
        user=cast.station_admin, role=Role.TEAM_LEADER, region_id="320305005000"
    )
    actor = User.objects.get(pk=cast.station_admin.pk)
    # The station grant under 320305005 is covered by the team-leader grant on the town.
    assert prefixes_for(actor, Perm.NETWORK_VIEW) == ["320305005", "320311001001"]
    assert prefixes_for(actor, Perm.NETWORK_MANAGE) == ["320305005204", "320311001001"]
    assert _codes(scoped(Region.objects.all(), actor, Perm.NETWORK_MANAGE, "code")) == {
        "320305005204",
        "320311001001",
    }


# ---------------------------------------------------------------- require()


def test_require_lets_a_manager_act_in_scope(cast):
    require(cast.county_admin, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)
    require(cast.station_admin, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)


def test_require_raises_not_found_for_an_outsider(cast):
    with pytest.raises(NotFound) as info:
        require(cast.outsider, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)
    assert info.value.status == 404
    assert info.value.message == "找不到该对象，或它不在您的管辖范围内。"


def test_require_raises_forbidden_for_a_read_only_supervisor(cast):
    with pytest.raises(Forbidden) as info:
        require(cast.supervisor, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)
    assert info.value.status == 403
    assert info.value.message == "您没有权限执行此操作。"


def test_require_station_admin_sibling_village_is_not_found(cast):
    # 320305005200 is the neighbouring village in the same town: not visible at all.
    with pytest.raises(NotFound):
        require(
            cast.station_admin, Perm.NETWORK_MANAGE, "320305005200", view_perm=Perm.NETWORK_VIEW
        )


def test_require_team_leader_is_read_only_in_its_town(cast):
    with pytest.raises(Forbidden):
        require(cast.team_leader, Perm.NETWORK_MANAGE, "320305005204", view_perm=Perm.NETWORK_VIEW)


# ---------------------------------------------------------------- minimal_prefixes


@pytest.mark.parametrize(
    ("given_prefixes", "expected"),
    [
        ([], []),
        (["32", "320305"], ["32"]),
        (["320305", "32"], ["32"]),
        (["320305005", "320305005204", "320311"], ["320305005", "320311"]),
        (["3203", "3203", "3203"], ["3203"]),
        # 3203 is not covered by 32030 (it is the other way round), and 3204 is apart.
        (["320305", "3203", "3204"], ["3203", "3204"]),
        (["33", "32"], ["32", "33"]),
    ],
)
def test_minimal_prefixes_examples(given_prefixes, expected):
    assert minimal_prefixes(given_prefixes) == expected


@given(st.lists(st.text(alphabet="0123", min_size=1, max_size=6), max_size=12))
def test_minimal_prefixes_properties(prefixes):
    result = minimal_prefixes(prefixes)
    assert result == sorted(result)
    assert set(result) <= set(prefixes)
    # Covers the same strings as the input...
    for prefix in prefixes:
        assert any(prefix.startswith(kept) for kept in result)
    # ...with no redundant member.
    for a in result:
        assert not any(a != b and a.startswith(b) for b in result)


# ---------------------------------------------------------------- subtree_q


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("32", ALL_CODES),
        ("3203", ALL_CODES - {"320000000000"}),
        ("320305005", {"320305005000", "320305005204", "320305005200"}),
        ("320305005204", {"320305005204"}),
        ("3203050052", {"320305005204", "320305005200"}),  # not a segment boundary: still a prefix
        ("33", set()),
    ],
)
def test_subtree_q_selects_the_subtree(net, prefix, expected):
    assert _codes(Region.objects.filter(subtree_q("code", prefix))) == expected


@pytest.mark.parametrize(
    "junk",
    [
        "3a",
        "abc",
        "32 03",
        "32-03",
        "3203050052041",  # 13 digits
        "32030500520400000",
        "%",
        "_",
        "32%",
        "３２",  # full-width digits
        "²",
        "32\n",
    ],
)
def test_subtree_q_with_junk_selects_nothing(net, junk):
    assert _codes(Region.objects.filter(subtree_q("code", junk))) == set()
    # A row whose code is itself junk of the same shape is not selected either.
    AuditEvent.objects.create(
        actor_label="x",
        verb="demo.load",
        target_type="system",
        target_id="",
        region_code=(junk + "0" * 12)[:12],
    )
    assert not AuditEvent.objects.filter(subtree_q("region_code", junk)).exists()


def test_subtree_q_empty_prefix_is_everything(net):
    assert _codes(Region.objects.filter(subtree_q("code", ""))) == ALL_CODES
