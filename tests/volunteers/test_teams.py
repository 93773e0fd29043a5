"""Teams (志愿服务队): the schema and its seed. Services and pages come next."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.conftest import Cast, Network
from tests.volunteers.test_services import register
from wenming.volunteers.models import Membership, MembershipStatus, Team, TeamType

DEFAULT_TYPES = [
    "理论宣讲",
    "文化文艺",
    "医疗卫生",
    "科学普及",
    "法律服务",
    "助老助残",
    "环境保护",
    "平安建设",
    "应急救援",
    "其他",
]


def make_team(net: Network, name: str = "马庄宣讲队") -> Team:
    return Team.objects.create(
        name=name,
        team_type=TeamType.objects.get(name="理论宣讲"),
        unit=net.station,
        region=net.station.region,
    )


@pytest.mark.django_db
def test_team_types_are_seeded_in_order() -> None:
    assert list(TeamType.objects.values_list("name", flat=True)) == DEFAULT_TYPES


def test_team_name_unique_per_unit(net: Network) -> None:
    make_team(net)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_team(net)
    assert Team.objects.count() == 1


def test_one_open_membership_per_team_and_volunteer(net: Network, cast: Cast) -> None:
    team = make_team(net)
    volunteer = register(cast.county_admin, 1)
    Membership.objects.create(team=team, volunteer=volunteer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=team, volunteer=volunteer)
    Membership.objects.filter(team=team).update(status=MembershipStatus.LEFT)
    Membership.objects.create(team=team, volunteer=volunteer)
    assert Membership.objects.count() == 2


@pytest.mark.parametrize("field", ["role", "status"])
def test_unknown_role_or_status_refused(net: Network, cast: Cast, field: str) -> None:
    team = make_team(net)
    volunteer = register(cast.county_admin, 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=team, volunteer=volunteer, **{field: "boss"})
    assert Membership.objects.count() == 0
