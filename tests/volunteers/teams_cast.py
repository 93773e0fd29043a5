"""The team cast shared by the team tests: a team at 马庄 with a leader (a volunteer
login, no staff role), a member, a pending applicant, a volunteer of the same county not
in the team, a volunteer of another county and a resident; plus helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Cast, Network, make_user
from tests.volunteers.test_services import TODAY, id_number, reg_input
from wenming.accounts.models import User
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.volunteers import services, teams
from wenming.volunteers.models import Membership, Team, TeamType, Volunteer

VILLAGE = "320305005204"  # 马庄村委会, 潘安湖街道
OTHER_TOWN_VILLAGE = "320305102200"  # 马庄村, 青山泉镇 (same county)


def self_volunteer(user: User, seq: int, region_code: str = VILLAGE) -> Volunteer:
    """A self-registered volunteer record for a login."""
    return services.volunteer_register(
        actor=user,
        data=reg_input(
            name=user.name,
            phone=user.phone,
            id_number=id_number(seq=f"{seq:03d}"),
            region_code=region_code,
        ),
        self_service=True,
        today=TODAY,
    )


@dataclass
class Crew:
    team: Team  # 马庄宣讲队, owned by 马庄 station
    leader: User  # a volunteer login, active leader of the team (no staff role)
    leader_v: Volunteer
    member: User  # cast.volunteer, an active member
    member_v: Volunteer
    applicant: User  # a volunteer of the same county with a pending request
    applicant_v: Volunteer
    request: Membership  # the applicant's pending request
    stranger: User  # a volunteer of the same county, not in the team
    stranger_v: Volunteer
    far: User  # a volunteer of another county
    far_v: Volunteer
    resident: User  # a login without a volunteer record


def theory() -> TeamType:
    # get_or_create: a transactional test before this one may have flushed the seed.
    return TeamType.objects.get_or_create(name="理论宣讲", defaults={"sort": 10})[0]


def make_team(actor: Any, unit: Any, name: str = "马庄宣讲队") -> Team:
    return teams.team_create(
        actor=actor, name=name, team_type_id=theory().pk, unit_id=unit.pk, description="宣讲"
    )


@pytest.fixture
def crew(net: Network, cast: Cast) -> Crew:
    return build_crew(net, cast)


def build_crew(net: Network, cast: Cast) -> Crew:
    team = make_team(cast.county_admin, net.station)
    leader = make_user("13900000011", "李队长", Role.VOLUNTEER, VILLAGE)
    leader_v = self_volunteer(leader, 11)
    teams.leader_appoint(actor=cast.county_admin, team=team, volunteer=leader_v)
    member_v = self_volunteer(cast.volunteer, 12)
    joined = teams.team_join_request(actor=cast.volunteer, team=team)
    teams.membership_approve(actor=leader, membership=joined)
    applicant = make_user("13900000013", "申请人", Role.VOLUNTEER, OTHER_TOWN_VILLAGE)
    applicant_v = self_volunteer(applicant, 13, OTHER_TOWN_VILLAGE)
    request = teams.team_join_request(actor=applicant, team=team)
    stranger = make_user("13900000014", "路人", Role.VOLUNTEER, OTHER_TOWN_VILLAGE)
    stranger_v = self_volunteer(stranger, 14, OTHER_TOWN_VILLAGE)
    far = make_user("13900000015", "外县志愿者", Role.VOLUNTEER, "320311001001")
    far_v = self_volunteer(far, 15, "320311001001")
    resident = make_user("13900000016", "居民", Role.RESIDENT, VILLAGE)
    return Crew(
        team=Team.objects.get(pk=team.pk),
        leader=leader,
        leader_v=leader_v,
        member=cast.volunteer,
        member_v=member_v,
        applicant=applicant,
        applicant_v=applicant_v,
        request=Membership.objects.get(pk=request.pk),
        stranger=stranger,
        stranger_v=stranger_v,
        far=far,
        far_v=far_v,
        resident=resident,
    )


def state() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Every team and membership row, and the number of audit events."""
    return (
        list(Team.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def refused(exc_type: type[Exception], call: Any) -> Exception:
    before = state()
    with pytest.raises(exc_type) as info:
        call()
    assert state() == before
    return info.value


def who(cast: Cast, crew: Crew, name: str) -> User:
    return getattr(crew, name, None) or getattr(cast, name)
