"""The demo volunteers: valid, spread, every star level, idempotent."""

from __future__ import annotations

import pytest

from tests.network.snapshot import db_state
from tests.network.test_demo import model_counts
from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.demo import demo_load
from wenming.core.models import AuditEvent
from wenming.volunteers.identity import parse_identity
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.selectors import volunteer_of_user


@pytest.fixture
def demo(db):
    return demo_load()


def volunteer_state() -> list[object]:
    through = Volunteer.skills.through.objects.order_by("pk").values_list()
    return [
        *Volunteer.objects.order_by("pk").values(),
        *through,
        *Team.objects.order_by("pk").values(),
        *Membership.objects.order_by("pk").values(),
    ]


def test_demo_adds_volunteers(demo):
    assert demo["volunteers"] == {"volunteers": 302, "teams": 38, "memberships": 281}
    assert Volunteer.objects.count() == 302  # with the demo volunteer and team leader
    assert set(Volunteer.objects.values_list("star_level", flat=True)) == {0, 1, 2, 3, 4, 5}
    assert Volunteer.objects.filter(status=VolunteerStatus.PENDING).exists()
    assert Volunteer.objects.filter(political_status="cpc").count() > 30
    minors = Volunteer.objects.filter(is_minor=True)
    assert minors.count() == 6
    assert all(m.guardian_consent_at and m.guardian_name for m in minors)
    assert Volunteer.objects.values("region_id").distinct().count() > 100
    assert all(v.region_id.startswith("320305") for v in Volunteer.objects.all())
    for v in Volunteer.objects.all():
        number = crypto.decrypt(v.id_cipher)
        identity = parse_identity("ric", number)
        assert (identity.birth_date, identity.gender) == (v.birth_date, v.gender)
        assert v.number == f"320305{v.pk:08d}"
        assert v.id_masked == crypto.mask_id_number(number)
    assert Volunteer.objects.filter(skills__isnull=False).distinct().count() == 302
    event = AuditEvent.objects.get(verb="demo.volunteers")
    assert event.changes == {"volunteers": 302, "teams": 38, "memberships": 281}


def test_demo_volunteer_login_has_its_record(demo):
    user = User.objects.get_by_phone("13800000005")
    volunteer = volunteer_of_user(user)
    assert volunteer is not None
    assert (volunteer.name, volunteer.region_id, volunteer.status) == (
        "刘志愿",
        "320305005204",
        VolunteerStatus.ACTIVE,
    )
    assert crypto.decrypt(volunteer.phone_cipher) == "13800000005"


def test_demo_load_twice_changes_nothing(demo):
    counts = model_counts()
    state = db_state()
    volunteers = volunteer_state()
    again = demo_load()
    assert again["volunteers"] == {"volunteers": 0, "teams": 0, "memberships": 0}
    assert model_counts() == counts
    assert db_state() == state
    assert volunteer_state() == volunteers


def test_demo_volunteer_me_page(demo, client):
    response = client.post("/accounts/login/", {"phone": "13800000005", "password": "Demo@2026"})
    assert response.status_code == 302
    response = client.get("/volunteers/me/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "刘志愿" in body
    assert "13800000005" not in body


def test_demo_teams_spread_over_towns_and_villages(demo):
    teams = Team.objects.select_related("unit")
    assert teams.count() == 38
    assert {t.region_id for t in teams} >= {"320305005000", "320305102000"}
    assert {t.unit.kind for t in teams} == {"institute", "station"}
    assert teams.values("team_type").distinct().count() == 10
    assert all(t.region_id == t.unit.region_id for t in teams)
    assert Membership.objects.filter(status=MembershipStatus.PENDING).count() > 10
    # Every team has exactly one leader, among its active members.
    for team in teams:
        leaders = team.memberships.filter(
            role=MembershipRole.LEADER, status=MembershipStatus.ACTIVE
        )
        assert leaders.count() == 1, team.name


def test_demo_leader_leads_the_demo_volunteers_team(demo):
    leader = volunteer_of_user(User.objects.get_by_phone("13800000004"))
    volunteer = volunteer_of_user(User.objects.get_by_phone("13800000005"))
    assert leader is not None and leader.status == VolunteerStatus.ACTIVE
    team = Team.objects.get(name="马庄文化文艺志愿服务队")
    assert team.memberships.get(volunteer=leader).role == MembershipRole.LEADER
    mine = team.memberships.get(volunteer=volunteer)
    assert (mine.role, mine.status) == (MembershipRole.MEMBER, MembershipStatus.ACTIVE)
    assert team.memberships.filter(status=MembershipStatus.PENDING).count() == 2
