"""Activity pages: public list and detail for anyone, sign-up and cancel by volunteers,
staff pages scoped (outsiders 404, read-only 403), constant query counts on lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.activities.helpers import (
    audit_count,
    make_activity,
    published,
    require_approval,
    volunteer_user,
)
from tests.shared import queries_for
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState

S = ActivityState


def test_public_list_shows_only_public_states(client, cast, net):
    shown = [published(cast.station_admin, net.station, title=f"公开{n}") for n in range(2)]
    make_activity(cast.station_admin, net.station, title="草稿活动")
    make_activity(cast.station_admin, net.station, S.CANCELLED, title="取消的活动")
    html = client.get("/activities/").content.decode()
    assert all(a.title in html for a in shown)
    assert "草稿活动" not in html and "取消的活动" not in html
    assert 'id="nav-activities"' in html


def test_public_list_filters(client, cast, net):
    published(cast.station_admin, net.station, title="移风易俗活动")
    published(cast.county_admin, net.other_institute, title="文化活动", work_item="culture")
    html = client.get("/activities/?item=culture").content.decode()
    assert "文化活动" in html and "移风易俗活动" not in html
    html = client.get(f"/activities/?region={net.town.code}").content.decode()
    assert "移风易俗活动" in html and "文化活动" not in html
    html = client.get("/activities/?q=文化").content.decode()
    assert "文化活动" in html and "移风易俗活动" not in html


def test_open_only_hides_full_activities(client, cast, net):
    full = published(cast.station_admin, net.station, title="满员活动", quota=1)
    Activity.objects.filter(pk=full.pk).update(signed_up_count=1)
    published(cast.station_admin, net.station, title="有名额")
    html = client.get("/activities/?open=1").content.decode()
    assert "有名额" in html and "满员活动" not in html


def test_draft_detail_is_404_for_the_public_and_outsiders(client, cast, net, login):
    draft = make_activity(cast.station_admin, net.station)
    assert client.get(f"/activities/{draft.pk}/").status_code == 404
    login(cast.outsider)
    assert client.get(f"/activities/{draft.pk}/").status_code == 404
    login(cast.supervisor)
    assert client.get(f"/activities/{draft.pk}/").status_code == 200


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("supervisor", 403)])
def test_staff_actions_refused(client, cast, net, login, who, status):
    draft = make_activity(cast.station_admin, net.station)
    login(getattr(cast, who))
    before = audit_count()
    response = client.post(f"/activities/{draft.pk}/publish/", {"reason": ""})
    assert response.status_code == status
    response = client.get(f"/activities/{draft.pk}/edit/")
    assert response.status_code == status
    assert Activity.objects.get(pk=draft.pk).state == S.DRAFT
    assert audit_count() == before


def test_roster_is_for_the_organisers(client, cast, net, login):
    activity = published(cast.station_admin, net.station)
    login(cast.outsider)
    assert client.get(f"/activities/{activity.pk}/roster/").status_code == 404
    login(cast.station_admin)
    assert client.get(f"/activities/{activity.pk}/roster/").status_code == 200


@pytest.mark.parametrize("state", ["draft", "published"])
def test_organiser_pages_answer_alike_for_a_foreign_activity(client, cast, net, login, state):
    """A station admin asking for another station's activity gets one answer from every
    organiser page (before: 403 on edit and roster, 404 on the check-in screen)."""
    from tests.activities.helpers import make_activity

    activity = (
        published(cast.county_admin, net.station2)
        if state == "published"
        else make_activity(cast.county_admin, net.station2, state)
    )
    login(cast.station_admin)
    pages = ["edit/", "roster/"]
    codes = {client.get(f"/activities/{activity.pk}/{p}").status_code for p in pages}
    codes |= {
        client.get(f"/checkin/{activity.pk}/screen/").status_code,
        client.get(f"/records/activity/{activity.pk}/").status_code,
    }
    assert codes == {404}
    # The supervisor (read-only over the city) is refused, not misled.
    login(cast.supervisor)
    assert client.get(f"/activities/{activity.pk}/edit/").status_code == 403


def test_roster_pages_searches_and_filters(client, cast, net, login):
    from wenming.activities import services
    from wenming.volunteers.models import Volunteer

    activity = published(cast.station_admin, net.station, quota=2)
    users = [volunteer_user(cast.county_admin, n) for n in range(1, 5)]
    for user in users:
        services.signup_create(actor=user, activity=activity)
    login(cast.station_admin)
    url = f"/activities/{activity.pk}/roster/"
    page = client.get(url).context["page"]
    assert page.paginator.count == 4
    assert [s.state for s in page] == ["signed_up", "signed_up", "waitlisted", "waitlisted"]
    waiting = client.get(url, {"state": "waitlisted"}).context["page"]
    assert [s.position for s in waiting] == [1, 2]
    target = Volunteer.objects.get(user=users[3])
    found = client.get(url, {"q": target.number}).context["page"]
    assert [s.volunteer_id for s in found] == [target.pk]
    assert client.get(url, {"q": "没有这个人"}).context["page"].paginator.count == 0
    few = _queries(client, url)
    for n in range(5, 9):
        services.signup_create(actor=volunteer_user(cast.county_admin, n), activity=activity)
    assert _queries(client, url) == few


def test_staff_create_publish_and_volunteer_signs_up(client, cast, net, login):
    login(cast.station_admin)
    start = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(
        "/activities/new/",
        {
            "title": "关爱老人",
            "work_item": "values",
            "unit": net.station.pk,
            "venue": "马庄村养老院",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "quota": 1,
        },
    )
    activity = Activity.objects.get(title="关爱老人")
    assert response.status_code == 302
    assert client.post(f"/activities/{activity.pk}/publish/").status_code == 302
    assert Activity.objects.get(pk=activity.pk).state == S.PUBLISHED

    user = volunteer_user(cast.county_admin, 1)
    login(user)
    client.post(f"/activities/{activity.pk}/signup/")
    assert SignUp.objects.get(activity=activity).state == SignUpState.SIGNED_UP
    me = client.get("/volunteers/me/").content.decode()
    assert 'id="my-activities"' in me and "关爱老人" in me
    client.post(f"/activities/{activity.pk}/signup/cancel/")
    assert SignUp.objects.get(activity=activity).state == SignUpState.CANCELLED


def test_anonymous_signup_goes_to_login(client, cast, net):
    activity = published(cast.station_admin, net.station)
    html = client.get(f"/activities/{activity.pk}/").content.decode()
    assert 'id="login-to-signup"' in html
    response = client.post(f"/activities/{activity.pk}/signup/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert SignUp.objects.count() == 0


def test_a_non_volunteer_is_sent_to_registration(client, cast, net, login):
    activity = published(cast.station_admin, net.station)
    login(cast.volunteer)  # a login without a volunteer record
    response = client.post(f"/activities/{activity.pk}/signup/")
    assert response["Location"] == "/volunteers/register/"
    assert SignUp.objects.count() == 0


def _queries(client, url: str) -> int:
    return queries_for(client, url, fresh=True)  # the public list caches its cards


@pytest.mark.parametrize("url", ["/activities/", "/activities/manage/"])
def test_lists_take_a_constant_number_of_queries(client, cast, net, login, url):
    user = volunteer_user(cast.county_admin, 1)
    for n in range(2):
        published(cast.station_admin, net.station, title=f"活动{n}")
    login(cast.county_admin if "manage" in url else user)
    few = _queries(client, url)
    for n in range(2, 12):
        published(cast.station_admin, net.station, title=f"活动{n}")
    assert _queries(client, url) == few


def test_approval_settings_page(client, cast, net, login):
    login(cast.institute_admin)
    units = list(client.get("/activities/approval/").context["page"])
    assert set(units) == {net.station, net.station2, net.point}
    response = client.post("/activities/approval/", {"unit": net.station.pk, "required": "1"})
    assert response.status_code == 302
    from wenming.activities.services import approval_required

    assert approval_required(net.station)
    before = audit_count()
    response = client.post("/activities/approval/", {"unit": net.institute.pk, "required": "1"})
    assert response.status_code == 404
    assert audit_count() == before and not approval_required(net.institute)


def test_a_published_activity_form_keeps_the_time(client, cast, net, login):
    activity = published(cast.station_admin, net.station, quota=2)
    login(cast.station_admin)
    form = client.get(f"/activities/{activity.pk}/edit/").context["form"]
    assert form.fields["starts_at"].disabled and not form.fields["quota"].disabled
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(quota=5, title="改名无效", starts_at="2030-01-01T08:00")
    response = client.post(f"/activities/{activity.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    activity.refresh_from_db()
    assert (activity.quota, activity.title) == (5, "马庄村环境整治")


def test_public_list_order_open_first_then_finished_latest_first(client, cast, net):
    soon = published(cast.station_admin, net.station, title="明天")
    later = published(
        cast.station_admin,
        net.station,
        title="下周",
        starts_at=soon.starts_at + dt.timedelta(days=7),
        ends_at=soon.ends_at + dt.timedelta(days=7),
    )
    old, older = (
        make_activity(cast.station_admin, net.station, S.FINISHED, title=t) for t in ("旧", "更旧")
    )
    Activity.objects.filter(pk=old.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=2),
        ends_at=timezone.now() - dt.timedelta(days=2) + dt.timedelta(hours=1),
        signup_closes_at=timezone.now() - dt.timedelta(days=2),
    )
    Activity.objects.filter(pk=older.pk).update(
        starts_at=timezone.now() - dt.timedelta(days=9),
        ends_at=timezone.now() - dt.timedelta(days=9) + dt.timedelta(hours=1),
        signup_closes_at=timezone.now() - dt.timedelta(days=9),
    )
    page = client.get("/activities/").context["page"]
    assert [a.pk for a in page] == [soon.pk, later.pk, old.pk, older.pk]


def test_buttons_follow_the_table_and_the_role(client, cast, net, login):
    activity = published(cast.station_admin, net.station)
    login(cast.station_admin)
    actions = [t.action for t in client.get(f"/activities/{activity.pk}/").context["actions"]]
    assert actions == ["start", "cancel"]
    login(cast.supervisor)
    response = client.get(f"/activities/{activity.pk}/")
    assert (
        response.context["actions"] == [] and 'id="activity-edit"' not in response.content.decode()
    )
    require_approval(net.station)
    draft = make_activity(cast.station_admin, net.station, S.SUBMITTED)
    login(cast.institute_admin)
    actions = [t.action for t in client.get(f"/activities/{draft.pk}/").context["actions"]]
    assert actions == ["approve", "reject", "cancel"]


def test_public_list_serves_shared_cards_from_the_cache_with_each_visitors_badges(
    client, cast, net, login
):
    from wenming.activities import services

    first = published(cast.station_admin, net.station, title="缓存活动", quota=2)
    someone = volunteer_user(cast.county_admin, 1)
    other = volunteer_user(cast.county_admin, 2)
    services.signup_create(actor=someone, activity=first)
    login(someone)
    html = client.get("/activities/").content.decode()
    assert "我已报名" in html and "余 1 / 2 个名额" in html
    # Cached now: one query for the cache key, the rest are the visitor's own.
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/activities/").content.decode()
    cards = html[html.index('id="activity-cards"') :]
    assert again[again.index('id="activity-cards"') :] == cards
    assert not any("activities_activityphoto" in q["sql"] for q in ctx.captured_queries)
    # Another visitor gets the same cards without someone else's badge.
    login(other)
    assert "我已报名" not in client.get("/activities/").content.decode()
    # A sign-up changes the key at once: the places left are never stale.
    services.signup_create(actor=other, activity=first)
    html = client.get("/activities/").content.decode()
    assert "我已报名" in html and "名额已满" in html
    # So does a newly published activity.
    published(cast.station_admin, net.station, title="新发布的活动")
    assert "新发布的活动" in client.get("/activities/").content.decode()


def test_public_list_cache_is_per_query_and_language(client, cast, net):
    published(cast.station_admin, net.station, title="搜索甲")
    published(cast.station_admin, net.station, title="搜索乙")
    assert "搜索乙" not in client.get("/activities/?q=甲").content.decode()
    assert "搜索甲" not in client.get("/activities/?q=乙").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "activities" in client.get("/activities/?q=甲").content.decode().lower()
    assert "共 1 项活动" not in client.get("/activities/?q=甲").content.decode()


def test_public_list_cache_keys_are_bounded(client, cast, net, monkeypatch):
    # Only the browsing views are cached, keyed on the known parameters: junk in the URL
    # neither makes new cache entries nor reaches the (shared) pager links.
    from django.core.cache import cache as the_cache

    for n in range(30):
        published(cast.station_admin, net.station, title=f"活动{n}")
    written: list[str] = []
    real_set = the_cache.set
    monkeypatch.setattr(
        the_cache, "set", lambda k, *a, **kw: (written.append(k), real_set(k, *a, **kw))
    )
    client.get("/activities/?item=culture")
    client.get("/activities/?item=culture&junk=1&utm=x")
    client.get("/activities/?item=culture&junk=2")
    assert len([k for k in written if k.startswith("activity-cards:")]) == 1
    html = client.get("/activities/?junk=%3Cscript%3E").content.decode()
    cards = html[html.index('id="activity-cards"') :]
    assert "junk" not in cards and "page=2" in cards
    client.get("/activities/?q=活动1")  # a search: rendered, not kept
    client.get("/activities/?page=999")  # far pages: rendered, not kept
    assert len([k for k in written if k.startswith("activity-cards:")]) == 2
