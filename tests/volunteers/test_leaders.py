"""A leader of a deactivated team must not act for it anywhere: confirm its service
records, see its activities' records, take its orders, or be told of them (one rule,
volunteers.leaders, asked by every domain)."""

from __future__ import annotations

import pytest

from tests.demands.helpers import team_with_leader
from tests.records.helpers import END, START, activity, signed_up_volunteer, state, token
from wenming.core.errors import Forbidden, NotFound
from wenming.demands.notify import team_leaders
from wenming.demands.permissions import grabbable_order_ids
from wenming.records import services as records
from wenming.records.models import ServiceRecord
from wenming.volunteers.leaders import leads_team
from wenming.volunteers.models import Team


@pytest.fixture
def led(cast, net):
    team, leader = team_with_leader(cast.county_admin, net.station, 61)
    act = activity(cast.county_admin, net.station, team_id=team.pk)
    vol = signed_up_volunteer(cast.county_admin, act, 62)
    records.attendance_check_in(actor=vol, activity=act, token=token(act, START), now=START)
    records.attendance_check_out(actor=vol, activity=act, token=token(act, END), now=END)
    return team, leader, ServiceRecord.objects.get()


def test_an_active_teams_leader_confirms(led):
    team, leader, record = led
    assert leads_team(leader, team.pk)
    records.record_confirm(actor=leader, record=record)
    record.refresh_from_db()
    assert record.status == "confirmed"


def test_a_deactivated_teams_leader_confirms_nothing(led):
    team, leader, record = led
    Team.objects.filter(pk=team.pk).update(is_active=False)
    assert not leads_team(leader, team.pk)
    before = state()
    with pytest.raises((Forbidden, NotFound)):
        records.record_confirm(actor=leader, record=record)
    assert state() == before
    assert grabbable_order_ids(leader) == set()
    assert team_leaders(team.pk) == []
