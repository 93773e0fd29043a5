"""The team pages: who sees what (no personal data to those who may not see it), the
join / approve / reject / leave / remove round trip, create and edit, refusals that
change nothing, the volunteer list's team filter, 我的, and constant query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_user
from tests.volunteers.teams_cast import make_team, state, theory, who
from tests.volunteers.test_services import register
from wenming.core.roles import Role
from wenming.volunteers import teams
from wenming.volunteers.models import Membership, MembershipRole, MembershipStatus, Team


def team_names(response) -> list[str]:
    return [t.name for t in response.context["page"].object_list]


def url(crew, suffix: str = "") -> str:
    return f"/teams/{crew.team.pk}/{suffix}"


# ---------------------------------------------------------------- list


def test_anonymous_is_sent_to_login(client, crew):
    for path in ("/teams/", url(crew), "/teams/new/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_list_for_staff_and_volunteers(cast, net, crew, login):
    make_team(cast.outsider, net.other_center, "泉山宣讲队")
    assert team_names(login(cast.county_admin).get("/teams/")) == ["马庄宣讲队"]
    assert team_names(login(cast.outsider).get("/teams/")) == ["泉山宣讲队"]
    response = login(crew.stranger).get("/teams/")
    assert team_names(response) == ["马庄宣讲队"]
    body = response.content.decode()
    assert "找服务队" in body and "新建服务队" not in body
    # No personal data in the finding list: names of members never appear.
    assert crew.leader_v.name not in body and crew.member_v.name not in body


def test_list_marks_my_teams(crew, login):
    body = login(crew.member).get("/teams/").content.decode()
    assert "已加入" in body
    body = login(crew.applicant).get("/teams/").content.decode()
    assert "申请中" in body


def test_list_refuses_who_is_neither_staff_nor_volunteer(crew, login):
    assert login(crew.resident).get("/teams/").status_code == 403


def test_list_filters(cast, net, crew, login):
    make_team(cast.county_admin, net.other_institute, "青山泉应急队")
    client = login(cast.county_admin)

    def found(query: str) -> set[str]:
        return set(team_names(client.get(f"/teams/?{query}")))

    assert found("q=应急") == {"青山泉应急队"}
    assert found(f"type={theory().pk}") == {"马庄宣讲队", "青山泉应急队"}
    assert found("type=999999") == set()
    assert found("region=320305005") == {"马庄宣讲队"}
    assert found(f"unit={net.station.pk}") == {"马庄宣讲队"}
    assert found("type=abc&unit=x&region=３２") == {"马庄宣讲队", "青山泉应急队"}  # junk ignored


def test_list_queries_are_constant(cast, net, login):
    client = login(cast.county_admin)
    units = [net.station, net.station2, net.institute, net.other_institute, net.center]

    def add(n: int) -> None:
        team = make_team(cast.county_admin, units[n % 5], f"队{n:02d}")
        teams.leader_appoint(
            actor=cast.county_admin, team=team, volunteer=register(cast.county_admin, n)
        )

    for n in range(3):
        add(n)
    client.get("/teams/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/teams/").status_code == 200
    for n in range(3, 30):
        add(n)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/teams/")
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25
    assert len(many) == len(few)


def test_finding_list_queries_are_constant(cast, crew, login):
    client = login(crew.leader)  # a volunteer: the finding list
    client.get("/teams/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/teams/").status_code == 200
    for n in range(10):
        make_team(cast.county_admin, crew.team.unit, f"马庄{n}队")
    with CaptureQueriesContext(connection) as eleven:
        assert client.get("/teams/").status_code == 200
    assert len(eleven) == len(one)


# ---------------------------------------------------------------- detail


def test_detail_for_staff_shows_masked_members_and_requests(cast, crew, login):
    body = login(cast.county_admin).get(url(crew)).content.decode()
    for text in (crew.leader_v.name, crew.member_v.name, crew.member_v.phone_masked, "入队申请"):
        assert text in body
    assert crew.applicant_v.name in body  # the pending request
    assert crew.member.phone not in body  # never a plaintext number
    assert "设为队长" in body and "编辑" in body
    assert "活动" in body and 'id="team-activities-empty"' in body


def test_detail_lists_the_teams_public_activities_newest_first(cast, net, crew, login):
    import datetime as dt

    from tests.activities.helpers import make_activity

    def organised(title: str, state: str, days: int):
        activity = make_activity(cast.county_admin, net.station, state, title=title,
                                 team_id=crew.team.pk)  # fmt: skip
        starts = activity.starts_at + dt.timedelta(days=days)
        type(activity).objects.filter(pk=activity.pk).update(
            starts_at=starts, ends_at=starts + dt.timedelta(hours=2), signup_closes_at=starts
        )
        return activity

    organised("去年的敬老活动", "finished", -400)
    organised("下周的环境整治", "published", 7)
    organised("正在进行的宣讲", "ongoing", 1)
    organised("还在草稿的活动", "draft", 2)
    organised("取消了的活动", "cancelled", 3)
    make_activity(cast.county_admin, net.station, "published", title="别队的活动")
    body = login(crew.member).get(url(crew)).content.decode()
    section = body[body.index('id="team-activities"') :]
    shown = ["下周的环境整治", "正在进行的宣讲", "去年的敬老活动"]
    assert all(t in section for t in shown)
    assert [section.index(t) for t in shown] == sorted(section.index(t) for t in shown)
    for hidden in ("还在草稿的活动", "取消了的活动", "别队的活动"):
        assert hidden not in body
    assert f'href="/activities/?team={crew.team.pk}"' in body
    listed = login(crew.member).get(f"/activities/?team={crew.team.pk}")
    assert {a.title for a in listed.context["page"]} == set(shown)
    assert crew.team.name in listed.content.decode()


def test_detail_caps_the_activities_and_links_to_the_rest(cast, net, crew, login):
    from tests.activities.helpers import make_activity
    from wenming.activities.domain import TEAM_ACTIVITIES_SHOWN

    for n in range(TEAM_ACTIVITIES_SHOWN + 1):
        make_activity(cast.county_admin, net.station, "finished", title=f"活动{n}",
                      team_id=crew.team.pk)  # fmt: skip
    response = login(crew.member).get(url(crew))
    (card,) = [p for p in response.context["panels"] if p.key == "activities"]
    assert len(card.context["activities"]) == TEAM_ACTIVITIES_SHOWN
    assert "查看本队全部活动" in response.content.decode()


def test_detail_for_the_leader(crew, login):
    body = login(crew.leader).get(url(crew)).content.decode()
    assert "您是本队队长。" in body
    assert crew.applicant_v.name in body and "同意" in body
    assert crew.member_v.phone_masked in body
    assert "设为队长" not in body and "编辑" not in body
    assert "移出" in body


def test_detail_for_a_member_shows_names_only(crew, login):
    body = login(crew.member).get(url(crew)).content.decode()
    assert "您是本队队员。" in body
    assert crew.leader_v.name in body
    assert crew.leader_v.phone_masked not in body and crew.leader_v.number not in body
    assert crew.applicant_v.name not in body  # requests are the leader's business
    assert "退出服务队" in body


def test_detail_for_a_stranger_shows_no_personal_data(crew, login):
    response = login(crew.stranger).get(url(crew))
    body = response.content.decode()
    assert response.status_code == 200
    assert "申请加入" in body
    for v in (crew.leader_v, crew.member_v, crew.applicant_v):
        assert v.name not in body
    assert "队员名单仅本队队员和管理人员可见" in body


@pytest.mark.parametrize("name", ["far", "outsider", "resident"])
def test_detail_is_404_outside(cast, crew, login, name):
    assert login(who(cast, crew, name)).get(url(crew)).status_code == 404


def test_detail_queries_are_constant(cast, crew, login):
    client = login(cast.county_admin)
    client.get(url(crew))
    with CaptureQueriesContext(connection) as few:
        client.get(url(crew))
    for n in range(10):
        v = register(cast.county_admin, 40 + n)
        teams.leader_appoint(actor=cast.county_admin, team=crew.team, volunteer=v)
    with CaptureQueriesContext(connection) as many:
        client.get(url(crew))
    assert len(many) == len(few)


# ---------------------------------------------------------------- the round trip


def test_join_approve_leave(crew, login):
    client = login(crew.stranger)
    response = client.post(url(crew, "join/"), follow=True)
    assert "已提交入队申请" in response.content.decode()
    m = Membership.objects.get(volunteer=crew.stranger_v, status=MembershipStatus.PENDING)
    # The same request again: a clear message, nothing written.
    before = state()
    response = client.post(url(crew, "join/"), follow=True)
    assert "您已申请加入该服务队，或已经是队员。" in response.content.decode()
    assert state() == before

    client = login(crew.leader)
    response = client.post(f"/teams/memberships/{m.pk}/approve/", follow=True)
    assert f"已批准 {crew.stranger_v.name} 入队。" in response.content.decode()
    m.refresh_from_db()
    assert m.status == MembershipStatus.ACTIVE

    client = login(crew.stranger)
    page = client.get(url(crew, "leave/"))
    assert "确定要退出" in page.content.decode()
    response = client.post(url(crew, "leave/"), {"reason": "时间冲突"}, follow=True)
    assert "您已退出该服务队。" in response.content.decode()
    m.refresh_from_db()
    assert (m.status, m.reason) == (MembershipStatus.LEFT, "时间冲突")


def test_reject_with_reason(crew, login):
    client = login(crew.leader)
    client.post(f"/teams/memberships/{crew.request.pk}/reject/", {"reason": "人数已满"})
    crew.request.refresh_from_db()
    assert (crew.request.status, crew.request.reason) == (MembershipStatus.REJECTED, "人数已满")
    body = login(crew.applicant).get(url(crew)).content.decode()
    assert "您上次的入队申请未获同意。" in body and "人数已满" in body


def test_remove_needs_a_reason_and_confirms(crew, login):
    target = Membership.objects.get(volunteer=crew.member_v)
    client = login(crew.leader)
    page = client.get(f"/teams/memberships/{target.pk}/remove/")
    assert "确定要将" in page.content.decode()
    before = state()
    response = client.post(f"/teams/memberships/{target.pk}/remove/", {"reason": ""})
    assert response.status_code == 200
    assert "请写明移出原因。" in response.content.decode()
    assert state() == before
    response = client.post(f"/teams/memberships/{target.pk}/remove/", {"reason": "长期缺席"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.status, target.reason) == (MembershipStatus.REMOVED, "长期缺席")


@pytest.mark.parametrize(
    ("name", "status"), [("supervisor", 403), ("member", 403), ("far", 404), ("outsider", 404)]
)
def test_decisions_refused_change_nothing(cast, crew, login, name, status):
    client = login(who(cast, crew, name))
    target = Membership.objects.get(volunteer=crew.member_v)
    before = state()
    posts = [
        (f"/teams/memberships/{crew.request.pk}/approve/", {}),
        (f"/teams/memberships/{crew.request.pk}/reject/", {"reason": "x"}),
        (f"/teams/memberships/{target.pk}/remove/", {"reason": "x"}),
        (f"/teams/memberships/{target.pk}/leader/", {"action": "appoint"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == status, path
    assert client.get(f"/teams/memberships/{target.pk}/remove/").status_code == status
    assert state() == before


def test_leader_buttons(cast, crew, login):
    target = Membership.objects.get(volunteer=crew.member_v)
    client = login(cast.station_admin)
    client.post(f"/teams/memberships/{target.pk}/leader/", {"action": "appoint"})
    target.refresh_from_db()
    assert target.role == MembershipRole.LEADER
    client.post(f"/teams/memberships/{target.pk}/leader/", {"action": "dismiss"})
    target.refresh_from_db()
    assert (target.role, target.status) == (MembershipRole.MEMBER, MembershipStatus.ACTIVE)


# ---------------------------------------------------------------- create and edit


def test_create_and_edit(cast, net, login):
    client = login(cast.station_admin)
    page = client.get("/teams/new/")
    assert page.status_code == 200
    options = page.context["form"].fields["unit_id"].choices
    assert {label for value, label in options if value} == {
        "马庄村文化礼堂实践点",
        "马庄新时代文明实践站",
    }
    data = {
        "name": "马庄助老队",
        "team_type_id": theory().pk,
        "unit_id": net.station.pk,
        "description": "每周六上门",
    }
    response = client.post("/teams/new/", data)
    team = Team.objects.get(name="马庄助老队")
    assert response.status_code == 302 and response.url == f"/teams/{team.pk}/"
    # The same name again: the form says so, nothing written.
    before = state()
    response = client.post("/teams/new/", data)
    assert "该单位已有同名的服务队。" in response.content.decode()
    assert state() == before
    response = client.post(
        f"/teams/{team.pk}/edit/", {**data, "name": "马庄助老服务队", "is_active": ""}
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.is_active) == ("马庄助老服务队", False)


def test_create_at_a_unit_outside_scope_is_not_offered(cast, net, login):
    client = login(cast.station_admin)
    before = state()
    response = client.post(
        "/teams/new/",
        {"name": "越权队", "team_type_id": theory().pk, "unit_id": net.station2.pk},
    )
    assert response.status_code == 200  # not a choice of the form
    assert state() == before


@pytest.mark.parametrize(("name", "status"), [("supervisor", 403), ("volunteer", 403)])
def test_create_page_refused(cast, crew, login, name, status):
    assert login(who(cast, crew, name)).get("/teams/new/").status_code == status


@pytest.mark.parametrize(
    ("name", "status"), [("supervisor", 403), ("leader", 403), ("member", 403), ("outsider", 404)]
)
def test_edit_refused(cast, crew, login, name, status):
    client = login(who(cast, crew, name))
    before = state()
    assert client.get(url(crew, "edit/")).status_code == status
    response = client.post(
        url(crew, "edit/"),
        {"name": "改名", "team_type_id": theory().pk, "unit_id": crew.team.unit_id},
    )
    assert response.status_code == status
    assert state() == before


# ---------------------------------------------------------------- elsewhere


def test_volunteer_list_team_filter(cast, crew, login):
    client = login(cast.county_admin)
    response = client.get(f"/volunteers/?team={crew.team.pk}")
    assert {v.name for v in response.context["page"].object_list} == {
        crew.leader_v.name,
        crew.member_v.name,
    }
    assert "马庄宣讲队" in response.content.decode()  # the filter's option
    response = client.get(f"/volunteers/?team={crew.team.pk}&status=pending")
    assert list(response.context["page"].object_list) == []


def test_volunteer_list_with_team_filter_queries_are_constant(cast, crew, login):
    client = login(cast.county_admin)
    client.get(f"/volunteers/?team={crew.team.pk}")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/volunteers/?team={crew.team.pk}")
    for n in range(15):
        v = register(cast.county_admin, 60 + n)
        teams.leader_appoint(actor=cast.county_admin, team=crew.team, volunteer=v)
        make_team(cast.county_admin, crew.team.unit, f"新队{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/volunteers/?team={crew.team.pk}")
    assert len(response.context["page"].object_list) == 17
    assert len(many) == len(few)


def test_me_page_lists_my_teams(crew, login):
    body = login(crew.member).get("/volunteers/me/").content.decode()
    assert "我的服务队" in body and "马庄宣讲队" in body and "在队" in body
    assert 'href="/teams/"' in body
    body = login(crew.applicant).get("/volunteers/me/").content.decode()
    assert "待审核" in body


def test_nav_link_and_home_counter(cast, crew, login):
    body = login(crew.member).get("/").content.decode()
    assert 'href="/teams/"' in body
    body = login(cast.county_admin).get("/").content.decode()
    assert "志愿服务队" in body
    resident = make_user("13900000031", "群众", Role.RESIDENT, "320305005204")
    assert 'href="/teams/"' not in login(resident).get("/").content.decode()
