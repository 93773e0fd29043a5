"""Team services and selectors: the rules, who may do what, and that a refused action
changes nothing (the `crew` cast is in teams_cast.py)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from tests.conftest import make_user
from tests.volunteers.teams_cast import (
    VILLAGE,
    make_team,
    refused,
    self_volunteer,
    theory,
    who,
)
from tests.volunteers.test_services import register
from wenming.accounts.models import User
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.volunteers import teams
from wenming.volunteers.models import (
    Membership,
    MembershipRole,
    MembershipStatus,
    Team,
    TeamType,
    Volunteer,
    VolunteerStatus,
)

# ---------------------------------------------------------------- create and update


def test_create_copies_the_units_region_and_is_audited(cast, net):
    team = make_team(cast.station_admin, net.station, "马庄文艺队")
    assert (team.region_id, team.unit, team.team_type.name, team.is_active) == (
        VILLAGE,
        net.station,
        "理论宣讲",
        True,
    )
    event = AuditEvent.objects.get(verb="team.create")
    assert (event.actor, event.target_id, event.region_code) == (
        cast.station_admin,
        str(team.pk),
        VILLAGE,
    )
    assert event.changes["name"] == [None, "马庄文艺队"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "请填写服务队名称。"),
        ({"name": "队" * 101}, "name", "服务队名称最多 100 个字。"),
        ({"team_type_id": 999_999}, "team_type", "请选择服务队类型。"),
        ({"unit_id": 999_999}, "unit", "请选择所属单位。"),
        ({"name": "马庄宣讲队"}, "name", "该单位已有同名的服务队。"),
    ],
)
def test_create_rules(cast, net, crew, fields, field, message):
    values = {"name": "新队", "team_type_id": theory().pk, "unit_id": net.station.pk, **fields}
    exc = refused(RuleViolation, lambda: teams.team_create(actor=cast.county_admin, **values))
    assert (exc.field, exc.message) == (field, message)


def test_create_at_an_inactive_unit_is_refused(cast, net):
    net.station2.is_active = False
    net.station2.save()
    exc = refused(RuleViolation, lambda: make_team(cast.county_admin, net.station2))
    assert exc.field == "unit"


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        ("supervisor", Forbidden),  # read-only over the county
        ("team_leader", Forbidden),  # the staff role: view only
        ("station_admin", NotFound),  # 唐庄 is outside its village
        ("outsider", NotFound),
        ("volunteer", NotFound),
    ],
)
def test_create_refused(cast, net, actor, error):
    refused(error, lambda: make_team(getattr(cast, actor), net.station2))


def test_update_and_audit(cast, net, crew):
    team = teams.team_update(
        actor=cast.station_admin, team=crew.team, name="马庄理论宣讲队", is_active=False
    )
    assert (team.name, team.is_active) == ("马庄理论宣讲队", False)
    event = AuditEvent.objects.get(verb="team.update")
    assert event.changes == {"name": ["马庄宣讲队", "马庄理论宣讲队"], "is_active": [True, False]}
    # Moving to a unit outside the station admin's scope is refused.
    refused(
        NotFound,
        lambda: teams.team_update(actor=cast.station_admin, team=team, unit_id=net.station2.pk),
    )
    # The county admin may move it: the region follows the unit.
    moved = teams.team_update(actor=cast.county_admin, team=team, unit_id=net.station2.pk)
    assert moved.region_id == "320305005200"


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        ("supervisor", Forbidden),
        ("leader", Forbidden),  # leads the team, but does not edit it
        ("member", Forbidden),
        ("stranger", Forbidden),  # sees it (same county), may not change it
        ("far", NotFound),
        ("outsider", NotFound),
    ],
)
def test_update_refused(cast, crew, actor, error):
    refused(
        error, lambda: teams.team_update(actor=who(cast, crew, actor), team=crew.team, name="X")
    )


def test_update_with_junk_ids_is_a_rule_violation(cast, crew):
    for fields in ({"unit_id": "abc"}, {"team_type_id": None}, {"unit_id": 999_999}):
        refused(
            RuleViolation,
            lambda f=fields: teams.team_update(actor=cast.county_admin, team=crew.team, **f),
        )


def test_update_refuses_unknown_fields(cast, crew):
    refused(
        RuleViolation,
        lambda: teams.team_update(actor=cast.county_admin, team=crew.team, region_id="32"),
    )


# ---------------------------------------------------------------- join


def test_crew_is_as_described(crew):
    rows = {m.volunteer_id: (m.role, m.status) for m in Membership.objects.filter(team=crew.team)}
    assert rows == {
        crew.leader_v.pk: (MembershipRole.LEADER, MembershipStatus.ACTIVE),
        crew.member_v.pk: (MembershipRole.MEMBER, MembershipStatus.ACTIVE),
        crew.applicant_v.pk: (MembershipRole.MEMBER, MembershipStatus.PENDING),
    }
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="team.")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == [
        "team.create",
        "team.leader_appoint",
        "team.join_request",
        "team.membership_approve",
        "team.join_request",
    ]


def test_join_request(crew):
    m = teams.team_join_request(actor=crew.stranger, team=crew.team)
    assert (m.volunteer, m.status, m.role) == (
        crew.stranger_v,
        MembershipStatus.PENDING,
        MembershipRole.MEMBER,
    )
    event = AuditEvent.objects.filter(verb="team.join_request").latest("pk")
    assert event.actor == crew.stranger
    assert event.changes["membership"] == m.pk


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("member", "您已申请加入该服务队，或已经是队员。"),
        ("applicant", "您已申请加入该服务队，或已经是队员。"),
        ("leader", "您已申请加入该服务队，或已经是队员。"),
        ("resident", "请先注册成为志愿者，再申请加入服务队。"),
        ("county_admin", "请先注册成为志愿者，再申请加入服务队。"),
    ],
)
def test_join_rules(cast, crew, actor, message):
    exc = refused(
        RuleViolation,
        lambda: teams.team_join_request(actor=who(cast, crew, actor), team=crew.team),
    )
    assert exc.message == message


def test_join_needs_an_active_volunteer(crew):
    Volunteer.objects.filter(pk=crew.stranger_v.pk).update(status=VolunteerStatus.PENDING)
    exc = refused(
        RuleViolation, lambda: teams.team_join_request(actor=crew.stranger, team=crew.team)
    )
    assert exc.message == "您的志愿者注册审核通过后，才能申请加入服务队。"


def test_join_an_inactive_team_is_refused(cast, crew):
    Team.objects.filter(pk=crew.team.pk).update(is_active=False)
    team = Team.objects.get(pk=crew.team.pk)
    # A stranger no longer finds it at all; a former member would be told it is closed.
    refused(NotFound, lambda: teams.team_join_request(actor=crew.stranger, team=team))
    teams.team_leave(actor=crew.member, membership=Membership.objects.get(volunteer=crew.member_v))
    exc = refused(RuleViolation, lambda: teams.team_join_request(actor=crew.member, team=team))
    assert exc.message == "该服务队已停用，不能申请加入。"


def test_volunteer_of_another_county_does_not_find_the_team(crew):
    refused(NotFound, lambda: teams.team_join_request(actor=crew.far, team=crew.team))


def test_join_again_after_rejection_or_leaving(crew):
    teams.membership_reject(actor=crew.leader, membership=crew.request, reason="人满")
    again = teams.team_join_request(actor=crew.applicant, team=crew.team)
    assert again.status == MembershipStatus.PENDING
    assert Membership.objects.filter(volunteer=crew.applicant_v).count() == 2


# ---------------------------------------------------------------- approve and reject


@pytest.mark.parametrize("actor", ["leader", "county_admin", "station_admin", "institute_admin"])
def test_approve(cast, crew, actor):
    user = who(cast, crew, actor)
    m = teams.membership_approve(actor=user, membership=crew.request)
    m.refresh_from_db()
    assert (m.status, m.decided_by) == (MembershipStatus.ACTIVE, user)
    assert m.decided_at is not None
    event = AuditEvent.objects.filter(verb="team.membership_approve").latest("pk")
    assert event.changes["status"] == ["pending", "active"]


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        ("member", Forbidden),
        ("stranger", Forbidden),
        ("applicant", Forbidden),  # not on one's own request
        ("supervisor", Forbidden),
        ("team_leader", Forbidden),  # the staff role is read-only; not this team's leader
        ("far", NotFound),
        ("outsider", NotFound),
        ("resident", NotFound),
    ],
)
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decide_refused(cast, crew, actor, error, action):
    call = getattr(teams, f"membership_{action}")
    refused(error, lambda: call(actor=who(cast, crew, actor), membership=crew.request))


def test_a_dismissed_or_departed_leader_decides_nothing(cast, crew):
    leader_membership = Membership.objects.get(volunteer=crew.leader_v)
    teams.leader_dismiss(actor=cast.county_admin, membership=leader_membership)
    refused(Forbidden, lambda: teams.membership_approve(actor=crew.leader, membership=crew.request))


def test_decide_only_pending(crew):
    teams.membership_approve(actor=crew.leader, membership=crew.request)
    for call in (teams.membership_approve, teams.membership_reject):
        exc = refused(RuleViolation, lambda c=call: c(actor=crew.leader, membership=crew.request))
        assert exc.message == "该申请已经处理过了。"


def test_approve_needs_the_volunteer_still_registered(crew):
    Volunteer.objects.filter(pk=crew.applicant_v.pk).update(status=VolunteerStatus.SUSPENDED)
    exc = refused(
        RuleViolation, lambda: teams.membership_approve(actor=crew.leader, membership=crew.request)
    )
    assert exc.message == "该志愿者当前不是已注册状态，不能入队。"


def test_reject_keeps_the_reason(crew):
    m = teams.membership_reject(actor=crew.leader, membership=crew.request, reason="  人数已满 ")
    m.refresh_from_db()
    assert (m.status, m.reason, m.decided_by) == (
        MembershipStatus.REJECTED,
        "人数已满",
        crew.leader,
    )
    assert AuditEvent.objects.filter(verb="team.membership_reject").latest("pk").note == "人数已满"


# ---------------------------------------------------------------- leave and remove


def test_leave_and_withdraw(crew):
    mine = Membership.objects.get(volunteer=crew.member_v)
    left = teams.team_leave(actor=crew.member, membership=mine, reason="搬家")
    assert (left.status, left.reason) == (MembershipStatus.LEFT, "搬家")
    withdrawn = teams.team_leave(actor=crew.applicant, membership=crew.request)
    assert withdrawn.status == MembershipStatus.LEFT
    exc = refused(RuleViolation, lambda: teams.team_leave(actor=crew.member, membership=left))
    assert exc.message == "您已不在该服务队中。"


@pytest.mark.parametrize(
    ("actor", "error"),
    [("leader", Forbidden), ("county_admin", Forbidden), ("far", NotFound)],
)
def test_only_the_member_leaves(cast, crew, actor, error):
    mine = Membership.objects.get(volunteer=crew.member_v)
    refused(error, lambda: teams.team_leave(actor=who(cast, crew, actor), membership=mine))


def test_leader_removes_a_member_with_a_reason(crew):
    mine = Membership.objects.get(volunteer=crew.member_v)
    exc = refused(
        RuleViolation,
        lambda: teams.membership_remove(actor=crew.leader, membership=mine, reason="  "),
    )
    assert (exc.field, exc.message) == ("reason", "请写明移出原因。")
    removed = teams.membership_remove(actor=crew.leader, membership=mine, reason="长期不参加活动")
    assert (removed.status, removed.reason) == (MembershipStatus.REMOVED, "长期不参加活动")
    event = AuditEvent.objects.get(verb="team.membership_remove")
    assert (event.note, event.changes["status"]) == ("长期不参加活动", ["active", "removed"])
    exc = refused(
        RuleViolation,
        lambda: teams.membership_remove(actor=crew.leader, membership=mine, reason="再次"),
    )
    assert exc.message == "只能移出在队的队员。"


def test_only_staff_remove_a_leader(cast, crew):
    lead = Membership.objects.get(volunteer=crew.leader_v)
    second = self_volunteer(make_user("13900000017", "副队长", Role.VOLUNTEER, VILLAGE), 17)
    teams.leader_appoint(actor=cast.county_admin, team=crew.team, volunteer=second)
    refused(
        Forbidden,
        lambda: teams.membership_remove(
            actor=User.objects.get(pk=second.user_id), membership=lead, reason="夺权"
        ),
    )
    refused(
        Forbidden, lambda: teams.membership_remove(actor=crew.leader, membership=lead, reason="x")
    )
    removed = teams.membership_remove(actor=cast.station_admin, membership=lead, reason="违规")
    assert removed.status == MembershipStatus.REMOVED


@pytest.mark.parametrize(
    ("actor", "error"),
    [("member", Forbidden), ("supervisor", Forbidden), ("outsider", NotFound)],
)
def test_remove_refused(cast, crew, actor, error):
    mine = Membership.objects.get(volunteer=crew.leader_v)
    refused(
        error,
        lambda: teams.membership_remove(actor=who(cast, crew, actor), membership=mine, reason="x"),
    )


# ---------------------------------------------------------------- leaders


def test_appoint_a_member_and_dismiss_keeps_the_history(cast, crew):
    mine = Membership.objects.get(volunteer=crew.member_v)
    appointed = teams.leader_appoint(
        actor=cast.county_admin, team=crew.team, volunteer=crew.member_v
    )
    assert appointed.pk == mine.pk
    assert appointed.role == MembershipRole.LEADER
    exc = refused(
        RuleViolation,
        lambda: teams.leader_appoint(
            actor=cast.county_admin, team=crew.team, volunteer=crew.member_v
        ),
    )
    assert exc.message == "该志愿者已经是队长。"
    dismissed = teams.leader_dismiss(actor=cast.county_admin, membership=mine, reason="换届")
    assert (dismissed.role, dismissed.status) == (MembershipRole.MEMBER, MembershipStatus.ACTIVE)
    assert Membership.objects.filter(volunteer=crew.member_v).count() == 1
    events = AuditEvent.objects.filter(verb__in=["team.leader_appoint", "team.leader_dismiss"])
    assert [e.changes.get("role") for e in events.order_by("pk")] == [
        [None, "leader"],  # the crew's leader joined as leader
        ["member", "leader"],
        ["leader", "member"],
    ]
    exc = refused(
        RuleViolation, lambda: teams.leader_dismiss(actor=cast.county_admin, membership=mine)
    )
    assert exc.message == "该队员不是在任队长。"


def test_appoint_an_applicant_approves_them(cast, crew):
    m = teams.leader_appoint(actor=cast.county_admin, team=crew.team, volunteer=crew.applicant_v)
    assert (m.pk, m.status, m.role) == (
        crew.request.pk,
        MembershipStatus.ACTIVE,
        MembershipRole.LEADER,
    )


@pytest.mark.parametrize(
    ("actor", "error"),
    [("leader", Forbidden), ("supervisor", Forbidden), ("outsider", NotFound)],
)
def test_leaders_are_appointed_by_staff_only(cast, crew, actor, error):
    refused(
        error,
        lambda: teams.leader_appoint(
            actor=who(cast, crew, actor), team=crew.team, volunteer=crew.stranger_v
        ),
    )
    lead = Membership.objects.get(volunteer=crew.leader_v)
    refused(error, lambda: teams.leader_dismiss(actor=who(cast, crew, actor), membership=lead))


def test_appoint_a_volunteer_outside_the_scope_or_not_registered(cast, crew):
    refused(
        NotFound,
        lambda: teams.leader_appoint(
            actor=cast.station_admin, team=crew.team, volunteer=crew.stranger_v
        ),
    )
    Volunteer.objects.filter(pk=crew.stranger_v.pk).update(status=VolunteerStatus.SUSPENDED)
    stranger_v = Volunteer.objects.get(pk=crew.stranger_v.pk)
    refused(
        RuleViolation,
        lambda: teams.leader_appoint(actor=cast.county_admin, team=crew.team, volunteer=stranger_v),
    )


# ---------------------------------------------------------------- selectors


def test_list_scope_per_actor(cast, net, crew):
    other = make_team(cast.county_admin, net.other_institute, "青山泉应急队")
    closed = make_team(cast.county_admin, net.station2, "唐庄停用队")
    teams.team_update(actor=cast.county_admin, team=closed, is_active=False)
    make_team(cast.outsider, net.other_center, "泉山宣讲队")
    expected = {
        "county_admin": {"马庄宣讲队", "青山泉应急队", "唐庄停用队"},
        "supervisor": {"马庄宣讲队", "青山泉应急队", "唐庄停用队", "泉山宣讲队"},
        "institute_admin": {"马庄宣讲队", "唐庄停用队"},
        "station_admin": {"马庄宣讲队"},
        "outsider": {"泉山宣讲队"},
        # Volunteers: the active teams of their county, and their own.
        "member": {"马庄宣讲队", "青山泉应急队"},
        "stranger": {"马庄宣讲队", "青山泉应急队"},
        "far": {"泉山宣讲队"},
        "resident": set(),
    }
    for name, seen in expected.items():
        found = {t.name for t in teams.team_list(actor=who(cast, crew, name))}
        assert found == seen, name
    # A member still sees their own team after it is closed.
    teams.team_update(actor=cast.county_admin, team=crew.team, is_active=False)
    assert {t.name for t in teams.team_list(actor=crew.member)} == {"马庄宣讲队", "青山泉应急队"}
    assert {t.name for t in teams.team_list(actor=crew.stranger)} == {"青山泉应急队"}
    assert other.region_id == "320305102000"


def test_list_filters(cast, net, crew):
    make_team(cast.county_admin, net.other_institute, "青山泉应急队")
    rescue = TeamType.objects.get(name="应急救援")
    teams.team_update(
        actor=cast.county_admin, team=Team.objects.get(name="青山泉应急队"), team_type_id=rescue.pk
    )

    def names(**filters: Any) -> set[str]:
        return {t.name for t in teams.team_list(actor=cast.county_admin, **filters)}

    assert names(search="应急") == {"青山泉应急队"}
    assert names(search="马庄新时代") == {"马庄宣讲队"}  # the unit's name
    assert names(team_type_id=rescue.pk) == {"青山泉应急队"}
    assert names(region_prefix="320305005") == {"马庄宣讲队"}
    assert names(unit_id=net.station.pk) == {"马庄宣讲队"}
    assert names(region_prefix="abc") == set()


def test_get_is_404_outside(cast, crew):
    for name in ("far", "outsider", "resident"):
        with pytest.raises(NotFound):
            teams.team_get(actor=who(cast, crew, name), team_id=crew.team.pk)
    assert teams.team_get(actor=crew.stranger, team_id=crew.team.pk) == crew.team


def test_totals_count_active_members_only(crew):
    Volunteer.objects.filter(pk=crew.leader_v.pk).update(confirmed_minutes=600)
    Volunteer.objects.filter(pk=crew.member_v.pk).update(confirmed_minutes=90)
    Volunteer.objects.filter(pk=crew.applicant_v.pk).update(confirmed_minutes=6000)
    team = teams.team_get(actor=crew.member, team_id=crew.team.pk)
    assert (team.member_count, team.member_minutes) == (2, 690)


@pytest.mark.parametrize(
    ("actor", "members", "details", "decide"),
    [
        ("county_admin", True, True, True),
        ("supervisor", True, True, False),
        ("leader", True, True, True),
        ("member", True, False, False),
        ("applicant", False, False, False),
        ("stranger", False, False, False),
    ],
)
def test_access(cast, crew, actor, members, details, decide):
    access = teams.team_access(actor=who(cast, crew, actor), team=crew.team)
    assert (access.sees_members, access.sees_member_details, access.can_decide) == (
        members,
        details,
        decide,
    )
    listed = teams.team_members(access=access)
    assert listed.count() == (2 if members else 0)
    if members:
        assert listed[0].role == MembershipRole.LEADER  # leaders first
    assert teams.team_pending(access=access).count() == (1 if decide else 0)


def test_home_counter(cast, crew):
    assert teams.team_count(cast.county_admin) == 1
    assert teams.team_count(cast.outsider) == 0


# ---------------------------------------------------------------- concurrency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_join_requests_create_one_membership(net, cast):
    team = make_team(cast.county_admin, net.station)
    user = make_user("13900000021", "并发者", Role.VOLUNTEER, VILLAGE)
    self_volunteer(user, 21)
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            actor = User.objects.get(pk=user.pk)
            target = Team.objects.get(pk=team.pk)
            barrier.wait(timeout=10)
            try:
                teams.team_join_request(actor=actor, team=target)
                result = "ok"
            except RuleViolation as exc:
                result = exc.message
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {"您已申请加入该服务队，或已经是队员。"}
    assert Membership.objects.filter(team=team).count() == 1
    assert AuditEvent.objects.filter(verb="team.join_request").count() == 1


def test_staff_registration_helper_still_works(cast):
    # The shared helper from test_services is used by the team API tests too.
    assert register(cast.county_admin, 30).status == VolunteerStatus.ACTIVE
