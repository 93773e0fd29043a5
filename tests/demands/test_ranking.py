"""Candidate ranking on hand-made cases: each factor alone, then together."""

from __future__ import annotations

import pytest

from tests.demands.helpers import make_team, menu_item, submit, team_with_leader
from wenming.demands import ranking, services
from wenming.demands.models import Order, OrderEvent, OrderState
from wenming.volunteers.models import Skill, Volunteer

S = OrderState


def factors(candidate: ranking.Candidate) -> dict[str, float]:
    return {f.key: f.points for f in candidate.factors}


def by_name(cands: list[ranking.Candidate]) -> dict[str, ranking.Candidate]:
    return {c.name: c for c in cands}


@pytest.mark.parametrize(
    ("order_region", "candidate_region", "points"),
    [
        ("320305005204", "320305005204", 40),
        ("320305005204", "320305005200", 25),
        ("320305005204", "320305102200", 10),
        ("320305005204", "320311001001", 0),
    ],
)
def test_proximity(order_region, candidate_region, points):
    assert ranking.proximity(order_region, candidate_region).points == points


def test_small_factors():
    assert ranking.load(0).points == 0 and ranking.load(2).points == -10
    assert ranking.load(9).points == -20
    assert ranking.rating(None, 0).points == 0
    assert ranking.rating(5.0, 3).points == 10 and ranking.rating(1.0, 1).points == -10
    assert ranking.response(0, 0).points == 5
    assert ranking.response(4, 3).points == 7.5
    assert ranking.skills(set(), {1}).points == 0
    assert ranking.skills({1, 2}, {2, 3}).points == 7.5
    assert ranking.category(True, False).points == 25
    assert ranking.category(False, True).points == 10


def test_village_team_before_town_before_county(cast, net):
    item = menu_item(cast.county_admin, net.center, title="法律咨询")
    make_team(net.station, "马庄队")  # same village as the resident
    make_team(net.station2, "唐庄队")  # same town
    make_team(net.other_institute, "青山泉队")  # same county
    make_team(net.other_center, "外县队")  # not a candidate at all
    order = submit(item)
    names = [c.name for c in ranking.rank_candidates(order) if c.kind == "team"]
    assert names == ["马庄队", "唐庄队", "青山泉队"]


def test_providing_team_and_skills_outrank_distance(cast, net):
    first_aid = Skill.objects.create(name="急救")
    item = menu_item(cast.county_admin, net.center, title="急救培训", skill_ids=[first_aid.pk])
    near = make_team(net.station, "马庄队")
    far, leader = team_with_leader(cast.county_admin, net.other_institute, 1, "青山泉急救队")
    Volunteer.objects.get(user=leader).skills.add(first_aid)
    item.teams.add(far)
    order = submit(item)
    cands = by_name(ranking.rank_candidates(order))
    assert factors(cands["青山泉急救队"]) == {
        "proximity": 10, "category": 25, "skills": 15, "load": 0, "rating": 0, "response": 5,
    }  # fmt: skip
    assert factors(cands["马庄队"])["category"] == 0
    assert cands["青山泉急救队"].score == 55 > cands["马庄队"].score == 45
    assert near.pk


def test_load_rating_and_response_history(cast, net):
    item = menu_item(cast.station_admin, net.station)
    busy, _busy_leader = team_with_leader(cast.station_admin, net.station, 1, "忙队")
    good, good_leader = team_with_leader(cast.station_admin, net.station, 2, "好队")
    # 忙队 has two orders on hand; 好队 did one and was rated 5 stars.
    for n in range(2):
        o = submit(item, phone=f"1390000{n:04d}")
        services.order_accept(actor=cast.station_admin, order=o)
        services.order_dispatch(actor=cast.station_admin, order=o, team=busy)
    done = submit(item, phone="13900000077")
    services.order_accept(actor=cast.station_admin, order=done)
    services.order_dispatch(actor=cast.station_admin, order=done, team=good)
    services.order_take(actor=good_leader, order=done)
    services.order_complete(
        actor=good_leader, order=done, note="好",
        participants=[services.Participant(Volunteer.objects.get(user=good_leader).pk, 30)],
    )  # fmt: skip
    services.order_rate(order=done, token=done.link_token, stars=5)
    order = submit(item, phone="13900000088")
    cands = by_name(ranking.rank_candidates(order))
    assert factors(cands["忙队"])["load"] == -10
    assert factors(cands["忙队"])["response"] == 0  # dispatched twice, taken never
    assert factors(cands["好队"])["rating"] == 10
    assert factors(cands["好队"])["response"] == 10
    assert factors(cands["好队"])["category"] == 10  # has done the same work item
    assert [c.name for c in ranking.rank_candidates(order) if c.kind == "team"][:2] == [
        "好队",
        "忙队",
    ]
    assert OrderEvent.objects.filter(action="dispatch", team=busy).count() == 2
    assert Order.objects.filter(assigned_team=busy, state=S.DISPATCHED).count() == 2


def test_ranking_query_count_is_constant(cast, net, django_assert_num_queries):
    item = menu_item(cast.station_admin, net.station)
    for n in range(3):
        make_team(net.station, f"队{n}")
    order = submit(item)
    with django_assert_num_queries(9):
        ranking.rank_candidates(order)
    for n in range(3, 8):
        make_team(net.station2, f"队{n}")
    with django_assert_num_queries(9):
        ranking.rank_candidates(order)
