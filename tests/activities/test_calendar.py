"""Calendar feeds: a public iCalendar feed per unit and a private one per volunteer behind
a secret token. Both parse with the `icalendar` library and hold exactly the expected
events, in UTC; the private one only the volunteer's own live sign-ups."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from tests.activities.helpers import make_activity, published, volunteer_user
from wenming.activities import services
from wenming.activities.models import Activity, ActivityState, CalendarFeed
from wenming.activities.selectors import my_live_signup
from wenming.core.models import AuditEvent

S = ActivityState
HOST = "testserver"


def _start(days: float) -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=days)


def _at(days: float, **overrides) -> dict:
    start = _start(days)
    return {"starts_at": start, "ends_at": start + dt.timedelta(hours=2), **overrides}


def _parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _events(cal: Calendar) -> dict[str, dict]:
    return {
        str(e["uid"]): {
            "summary": str(e["summary"]),
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend"),
            "status": str(e["status"]),
            "location": str(e["location"]),
            "description": str(e["description"]),
            "url": str(e["url"]),
        }
        for e in cal.walk("VEVENT")
    }


def _uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@{HOST}"


# ---------------------------------------------------------------- unit feed


@pytest.fixture
def unit_activities(cast, net):
    admin = cast.station_admin
    return {
        "upcoming": published(admin, net.station, title="即将开始", **_at(5, address="村委会东")),
        "ongoing": make_activity(admin, net.station, S.ONGOING, title="进行中", **_at(-0.01)),
        "recent": make_activity(admin, net.station, S.FINISHED, title="上月的", **_at(-30)),
        "old": make_activity(admin, net.station, S.FINISHED, title="太久的", **_at(-120)),
        "draft": make_activity(admin, net.station, title="草稿", **_at(5)),
        "submitted": make_activity(admin, net.station, S.SUBMITTED, title="待审", **_at(5)),
        "cancelled": make_activity(admin, net.station, S.CANCELLED, title="取消的", **_at(5)),
        "elsewhere": published(cast.county_admin, net.station2, title="别的站", **_at(5)),
        "called_off": _published_then_cancelled(admin, net.station, title="后来取消的"),
    }


def _published_then_cancelled(admin, unit, **overrides) -> Activity:
    activity = make_activity(admin, unit, **_at(6), **overrides)
    services.activity_transition(actor=admin, activity=activity, action="publish")
    return services.activity_transition(
        actor=admin, activity=activity, action="cancel", reason="场地冲突"
    )


def test_unit_feed_holds_exactly_the_units_public_recent_and_upcoming_activities(
    client, net, unit_activities
):
    response = client.get(f"/activities/calendar/unit/{net.station.pk}.ics")
    cal = _parse(response)
    assert response["Cache-Control"] == "public, max-age=900"
    assert str(cal["x-wr-calname"]) == "马庄新时代文明实践站 志愿活动"
    assert str(cal["version"]) == "2.0"
    events = _events(cal)
    expected = [unit_activities[k] for k in ("upcoming", "ongoing", "recent")]
    called_off = unit_activities["called_off"]
    assert set(events) == {_uid(a) for a in [*expected, called_off]}
    # Cancelled after it was published: kept, so that subscribed phones cancel it too.
    assert events[_uid(called_off)]["status"] == "CANCELLED"
    assert events[_uid(called_off)]["summary"] == "[已取消] 后来取消的"
    assert "场地冲突" not in response.content.decode()
    for a in expected:
        event = events[_uid(a)]
        assert event["summary"] == a.title
        assert event["start"] == a.starts_at and event["start"].utcoffset() == dt.timedelta(0)
        assert event["end"] == a.ends_at and event["end"].tzinfo is not None
        assert event["status"] == "CONFIRMED"
        assert event["url"] == f"http://testserver/activities/{a.pk}/"
        assert event["url"] in event["description"]
        assert "马庄新时代文明实践站" in event["description"]
    assert events[_uid(unit_activities["upcoming"])]["location"] == "马庄村村口 村委会东"


def test_unit_feed_times_are_written_in_utc(client, cast, net):
    # 09:30 in Shanghai is 01:30 UTC.
    start = dt.datetime(2030, 5, 4, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    published(
        cast.station_admin, net.station, starts_at=start, ends_at=start + dt.timedelta(hours=3)
    )
    body = client.get(f"/activities/calendar/unit/{net.station.pk}.ics").content.decode()
    assert "DTSTART:20300504T013000Z" in body
    assert "DTEND:20300504T043000Z" in body


def test_unit_feed_of_an_unknown_unit_is_404(client, db):
    assert client.get("/activities/calendar/unit/999999.ics").status_code == 404


def test_unit_feed_query_count_is_constant(client, cast, net):
    url = f"/activities/calendar/unit/{net.station.pk}.ics"
    published(cast.station_admin, net.station, **_at(3))
    with CaptureQueriesContext(connection) as few:
        _parse(client.get(url))
    for n in range(10):
        published(cast.station_admin, net.station, title=f"活动{n}", **_at(4 + n))
    with CaptureQueriesContext(connection) as many:
        cal = _parse(client.get(url))
    assert len(_events(cal)) == 11
    assert len(many.captured_queries) == len(few.captured_queries) <= 3


def test_list_filtered_by_unit_and_detail_page_link_the_units_feed(client, cast, net):
    mine = published(cast.station_admin, net.station, title="本站活动")
    published(cast.county_admin, net.station2, title="别站活动")
    html = client.get(f"/activities/?unit={net.station.pk}").content.decode()
    assert "本站活动" in html and "别站活动" not in html
    assert f'href="webcal://testserver/activities/calendar/unit/{net.station.pk}.ics"' in html
    assert "订阅日历" in html
    html = client.get(f"/activities/{mine.pk}/").content.decode()
    assert f'href="webcal://testserver/activities/calendar/unit/{net.station.pk}.ics"' in html
    assert f'href="/activities/?unit={net.station.pk}"' in html
    # Without a unit filter the list offers no feed.
    assert "webcal://" not in client.get("/activities/").content.decode()


# ---------------------------------------------------------------- private feed


@pytest.fixture
def vol(cast):
    return volunteer_user(cast.county_admin, 1)


def _open_feed(login, user) -> CalendarFeed:
    client = login(user)
    response = client.post("/activities/calendar/me/reset/")
    assert response.status_code == 302
    assert response["Location"] == "/volunteers/me/#my-calendar"
    return CalendarFeed.objects.get(volunteer__user=user)


def test_private_feed_holds_only_the_volunteers_live_signups(client, cast, net, login, vol):
    admin = cast.station_admin
    other = volunteer_user(cast.county_admin, 2)
    signed = published(admin, net.station, title="已报名的", **_at(2))
    full = published(admin, net.station, title="候补的", quota=1, **_at(3))
    called_off = published(admin, net.station, title="后来取消的", **_at(4))
    withdrawn = published(admin, net.station, title="我退出的", **_at(5))
    not_mine = published(admin, net.station, title="别人报的", **_at(6))
    services.signup_create(actor=other, activity=full)
    for a in (signed, full, called_off, withdrawn):
        services.signup_create(actor=vol, activity=a)
    services.signup_create(actor=other, activity=not_mine)
    services.signup_cancel(actor=vol, signup=my_live_signup(actor=vol, activity=withdrawn))
    services.activity_transition(actor=admin, activity=called_off, action="cancel", reason="下雨")
    feed = _open_feed(login, vol)

    client.cookies.clear()  # a phone calendar has no session
    response = client.get(f"/activities/calendar/me/{feed.token}.ics")
    cal = _parse(response)
    assert response["Cache-Control"] == "private, max-age=900"
    assert str(cal["x-wr-calname"]) == "我的志愿活动"
    events = _events(cal)
    assert {uid: e["summary"] for uid, e in events.items()} == {
        _uid(signed): "已报名的",
        _uid(full): "[候补] 候补的",
        _uid(called_off): "[已取消] 后来取消的",
    }
    assert events[_uid(called_off)]["status"] == "CANCELLED"
    assert events[_uid(signed)]["status"] == "CONFIRMED"
    assert events[_uid(signed)]["start"] == signed.starts_at
    # Nothing personal: neither the volunteer's nor anyone else's name or phone.
    body = response.content.decode()
    for text in ("志愿者1", "志愿者2", vol.phone, other.phone, "下雨"):
        assert text not in body


def test_private_feed_leaves_out_activities_long_past(client, cast, net, login, vol):
    a = published(cast.station_admin, net.station, title="很久以前", **_at(2))
    services.signup_create(actor=vol, activity=a)
    feed = _open_feed(login, vol)
    Activity.objects.filter(pk=a.pk).update(
        state=S.FINISHED,
        starts_at=_start(-100),
        ends_at=_start(-100) + dt.timedelta(hours=1),
        signup_closes_at=_start(-100),
    )
    assert _events(_parse(client.get(f"/activities/calendar/me/{feed.token}.ics"))) == {}


@pytest.mark.parametrize(
    "token",
    ["x" * 43, "abc", "%00", "a" * 200],
)
def test_a_wrong_token_is_404_and_reveals_nothing(client, cast, net, login, vol, token):
    a = published(cast.station_admin, net.station, title="秘密活动", **_at(2))
    services.signup_create(actor=vol, activity=a)
    feed = _open_feed(login, vol)
    client.cookies.clear()
    response = client.get(f"/activities/calendar/me/{token}.ics")
    # A NUL is refused at the door (400) before any lookup.
    assert response.status_code == (400 if token == "%00" else 404)
    body = response.content.decode()
    assert "秘密活动" not in body and "BEGIN:VCALENDAR" not in body
    # A prefix of the real token is not the token.
    assert client.get(f"/activities/calendar/me/{feed.token[:-1]}.ics").status_code == 404


def test_token_is_long_random_and_urlsafe(login, vol):
    feed = _open_feed(login, vol)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", feed.token)


def test_reset_gives_a_new_address_and_the_old_one_stops_working(client, login, vol):
    first = _open_feed(login, vol)
    old = first.token
    event = AuditEvent.objects.get(verb="calendar.create")
    assert event.actor_id == vol.pk
    response = client.post("/activities/calendar/me/reset/")
    assert response.status_code == 302
    feed = CalendarFeed.objects.get(pk=first.pk)
    assert feed.token != old
    assert client.get(f"/activities/calendar/me/{old}.ics").status_code == 404
    assert client.get(f"/activities/calendar/me/{feed.token}.ics").status_code == 200
    event = AuditEvent.objects.get(verb="calendar.reset")
    assert event.actor_id == vol.pk
    assert event.target_id == str(feed.pk)
    # The audit log never holds a token.
    for e in AuditEvent.objects.filter(verb__startswith="calendar."):
        assert old not in str(e.changes) + e.note + e.target_label
        assert feed.token not in str(e.changes) + e.note + e.target_label


def test_reset_needs_a_logged_in_volunteer_and_a_post(client, cast, login, vol):
    response = client.post("/activities/calendar/me/reset/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    login(cast.volunteer)  # a login without a volunteer record
    response = client.post("/activities/calendar/me/reset/", follow=True)
    assert "请先注册成为志愿者" in response.content.decode()
    login(vol)
    assert client.get("/activities/calendar/me/reset/").status_code == 405
    assert not CalendarFeed.objects.exists()
    assert not AuditEvent.objects.filter(verb__startswith="calendar.").exists()


def test_private_feed_query_count_is_constant(client, cast, net, login, vol):
    services.signup_create(actor=vol, activity=published(cast.station_admin, net.station))
    feed = _open_feed(login, vol)
    url = f"/activities/calendar/me/{feed.token}.ics"
    client.cookies.clear()
    with CaptureQueriesContext(connection) as few:
        _parse(client.get(url))
    for n in range(10):
        a = published(cast.station_admin, net.station, title=f"活动{n}", **_at(4 + n))
        services.signup_create(actor=vol, activity=a)
    with CaptureQueriesContext(connection) as many:
        assert len(_events(_parse(client.get(url)))) == 11
    assert len(many.captured_queries) == len(few.captured_queries) <= 3


def test_me_page_offers_to_open_then_shows_the_address(client, login, vol):
    login(vol)
    html = client.get("/volunteers/me/").content.decode()
    assert 'id="my-calendar"' in html and 'id="calendar-open"' in html
    assert "webcal://" not in html
    feed = _open_feed(login, vol)
    html = client.get("/volunteers/me/").content.decode()
    assert f'value="http://testserver/activities/calendar/me/{feed.token}.ics"' in html
    assert f'href="webcal://testserver/activities/calendar/me/{feed.token}.ics"' in html
    assert 'id="calendar-reset"' in html and 'data-copy="calendar-url"' in html


# ---------------------------------------------------------------- published_at


def test_publishing_records_the_first_publication_only(cast, net):
    activity = make_activity(cast.station_admin, net.station, **_at(5))
    assert activity.published_at is None
    services.activity_transition(actor=cast.station_admin, activity=activity, action="publish")
    activity.refresh_from_db()
    first = activity.published_at
    assert first is not None and first == activity.state_changed_at
    services.activity_transition(
        actor=cast.station_admin, activity=activity, action="cancel", reason="x"
    )
    activity.refresh_from_db()
    assert activity.published_at == first


def test_migration_fills_published_at_from_the_audit_log_and_sign_ups(cast, net, vol):
    from importlib import import_module

    from django.apps import apps

    fill = import_module("wenming.activities.migrations.0004_activity_published_at")
    admin = cast.station_admin
    audited = _published_then_cancelled(admin, net.station, title="审计可查")
    with_signup = published(admin, net.station, title="有人报过名", **_at(7))
    services.signup_create(actor=vol, activity=with_signup)
    Activity.objects.filter(pk=with_signup.pk).update(state=S.CANCELLED)
    public = published(admin, net.station, title="公开的", **_at(8))
    never = make_activity(admin, net.station, S.CANCELLED, title="从未公开", **_at(9))
    draft = make_activity(admin, net.station, title="草稿", **_at(9))
    audited_at = AuditEvent.objects.get(verb="activity.publish", target_id=str(audited.pk))
    Activity.objects.update(published_at=None)

    fill.fill_published_at(apps, None)
    fill.fill_published_at(apps, None)  # re-runnable

    got = dict(Activity.objects.values_list("pk", "published_at"))
    assert got[audited.pk] == audited_at.created_at
    assert got[with_signup.pk] is not None and got[public.pk] is not None
    assert got[never.pk] is None and got[draft.pk] is None
