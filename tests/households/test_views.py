"""The register's pages: who sees what, the contact person's phone pages, the public
report form and its rate limit, and constant query counts on the lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.conftest import session_queries
from tests.households.helpers import VILLAGE, VILLAGE2, contact, household, state
from wenming.core.models import AuditEvent
from wenming.households import services
from wenming.households.models import (
    Assignment,
    EventKind,
    EventState,
    Household,
    HouseholdEvent,
    ReportChannel,
    Visit,
)
from wenming.households.policy import policy_for

pytestmark = pytest.mark.django_db


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "url",
    ["/households/", "/households/events/", "/households/coverage/", "/households/contacts/",
     "/households/figures/", "/households/mine/", "/households/settings/", "/households/new/"],
)  # fmt: skip
def test_staff_pages_render(cast, login, url):
    household(cast.station_admin, 1)
    client = login(cast.county_admin)
    assert client.get(url).status_code == 200


def test_register_pages_are_forbidden_without_the_permission(cast, login):
    client = login(cast.volunteer)
    assert client.get("/households/").status_code == 403
    assert client.get("/households/events/").status_code == 403
    assert client.get("/households/mine/").status_code == 200  # says: not a contact person


def test_a_household_of_another_village_is_404_for_the_station_admin(cast, login):
    other = household(cast.institute_admin, 2, region=VILLAGE2)
    client = login(cast.station_admin)
    assert client.get(f"/households/{other.pk}/").status_code == 404
    assert other.address not in client.get("/households/").content.decode()
    client = login(cast.outsider)
    assert client.get(f"/households/{other.pk}/").status_code == 404


def test_read_only_supervisor_sees_but_cannot_change(cast, login):
    h = household(cast.station_admin, 1)
    client = login(cast.supervisor)
    page = client.get(f"/households/{h.pk}/").content.decode()
    assert "王*" in page and "王大1" not in page and "13512340001" not in page
    before = state()
    response = client.post(f"/households/{h.pk}/event/", {"kind": "illness", "summary": "x"})
    assert response.status_code == 403
    response = client.post(f"/households/{h.pk}/members/", {"name": "新", "relation": "child"})
    assert response.status_code == 403
    assert state() == before


def test_create_a_household_through_the_page(cast, login):
    client = login(cast.station_admin)
    response = client.post(
        "/households/new/",
        {
            "region": VILLAGE,
            "address": "马庄村3组8号",
            "tags": ["empty_nest"],
            "note": "",
            "head_name": "张老汉",
            "head_phone": "13512345678",
            "head_birth_year": "1940",
        },
    )
    h = Household.objects.get()
    assert response.status_code == 302 and response.url == f"/households/{h.pk}/"
    page = client.get(response.url).content.decode()
    assert "张**" in page and "135****5678" in page and "张老汉" not in page


def test_reveal_through_the_page_is_audited_and_not_cached(cast, login):
    h = household(cast.station_admin, 1)
    member = h.members.get()
    client = login(cast.institute_admin)
    response = client.post(
        f"/households/members/{member.pk}/reveal/", {"what": "phone", "reason": "回访"}
    )
    assert response.status_code == 200
    assert "13512340001" in response.content.decode()
    assert response.headers["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(verb="household.reveal").count() == 1


def test_the_contact_person_logs_a_visit_that_closes_an_event_on_the_phone_pages(cast, login):
    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="illness", summary="老人住院"
    )
    client = login(c.user)
    mine = client.get("/households/mine/").content.decode()
    assert h.address in mine and "老人住院" in mine
    me = client.get("/volunteers/me/").content.decode()
    assert "/households/mine/" in me
    form = client.get(f"/households/{h.pk}/visit/?event={event.pk}").content.decode()
    assert "此次联系已办结该事项" in form
    response = client.post(
        f"/households/{h.pk}/visit/",
        {
            "channel": "visit",
            "happened_at": _now_local(),
            "notes": "上门看望，已出院",
            "event": str(event.pk),
            "close": "on",
            "outcome": "已出院，恢复良好",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert response.url == f"/households/events/{event.pk}/"
    event.refresh_from_db()
    assert event.state == EventState.CLOSED and event.outcome == "已出院，恢复良好"
    assert Visit.objects.get().contact == c
    page = client.get(response.url).content.decode()
    assert "已办结" in page and "已出院，恢复良好" in page


def test_a_stranger_contact_person_cannot_open_someone_elses_household(cast, login):
    h = household(cast.station_admin, 1)
    stranger = contact(cast.county_admin, 3)
    client = login(stranger.user)
    assert client.get(f"/households/{h.pk}/").status_code == 404
    assert client.get(f"/households/{h.pk}/visit/").status_code == 404


def test_assign_and_unassign_through_the_page(cast, login):
    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    client = login(cast.station_admin)
    client.post(f"/households/{h.pk}/assign/", {"contact": str(c.pk), "kind": "group"})
    a = Assignment.objects.get()
    assert a.contact == c
    client.post(f"/households/assignments/{a.pk}/end/", {"reason": "调整"})
    a.refresh_from_db()
    assert a.ended_at is not None


def test_the_public_report_form_files_an_event_and_is_rate_limited(cast, client):
    h = household(cast.station_admin, 1)
    url = f"/households/report/{h.report_code}/"
    page = client.get(url).content.decode()
    assert "马庄村委会" in page and "王" not in page  # nothing personal
    for n in range(services.REPORTS_PER_CODE_PER_HOUR):
        response = client.post(url, {"kind": "difficulty", "summary": f"屋顶漏雨{n}", "phone": ""})
        assert response.status_code == 200 and "已收到" in response.content.decode()
    assert HouseholdEvent.objects.filter(channel=ReportChannel.HOUSEHOLD).count() == 5
    response = client.post(url, {"kind": "difficulty", "summary": "再报", "phone": ""})
    assert response.status_code == 429
    assert HouseholdEvent.objects.count() == 5
    assert client.get("/households/report/NOSUCHCODE/").status_code == 404


def test_the_public_form_limits_one_address_across_cards(cast, client):
    homes = [household(cast.station_admin, n) for n in range(5)]
    statuses = []
    for n in range(services.REPORTS_PER_IP_PER_HOUR + 1):
        h = homes[n % 5]
        response = client.post(
            f"/households/report/{h.report_code}/", {"kind": "happy", "summary": f"喜事{n}"}
        )
        statuses.append(response.status_code)
    assert statuses[-1] == 429
    assert HouseholdEvent.objects.count() == services.REPORTS_PER_IP_PER_HOUR
    cache.clear()


def test_settings_page_saves_the_policy(cast, login):
    client = login(cast.county_admin)
    data = {"region": "320305000000", "assignment_limit": "8"}
    data |= {f"hours_{k}": "48" for k in EventKind.values}
    data |= {"hours_emergency": "1", "days_empty_nest": "5"}
    response = client.post("/households/settings/", data)
    assert response.status_code == 302
    policy = policy_for(VILLAGE)
    assert policy.assignment_limit == 8
    assert policy.response_hours["emergency"] == 1
    assert policy.cadence_days == {"empty_nest": 5}
    assert login(cast.supervisor).post("/households/settings/", data).status_code == 403


def _list_queries(django_assert_num_queries, client, url, n):
    client.get(url)  # warm the session
    with django_assert_num_queries(n - 1 + session_queries()):  # n counts the session
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("url", "queries"),
    [("/households/", 8), ("/households/events/", 5), ("/households/contacts/", 6),
     ("/households/mine/", 8)],
)  # fmt: skip
def test_list_pages_take_a_constant_number_of_queries(
    cast, login, django_assert_num_queries, url, queries
):
    c = contact(cast.county_admin)
    for n in range(3):
        h = household(cast.station_admin, n, tags=("empty_nest",))
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
        services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
    user = c.user if url.endswith("mine/") else cast.county_admin
    client = login(user)
    _list_queries(django_assert_num_queries, client, url, queries)
    for n in range(3, 9):
        h = household(cast.station_admin, n, tags=("empty_nest",))
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
        services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
    _list_queries(django_assert_num_queries, client, url, queries)


def test_figures_page_for_a_town_lists_its_villages(cast, login):
    h = household(cast.station_admin, 1)
    services.event_report(
        actor=cast.station_admin,
        household=h,
        kind="happy",
        summary="x",
        now=timezone.now() - dt.timedelta(days=5),
    )
    page = login(cast.county_admin).get("/households/figures/?region=320305005000")
    text = page.content.decode()
    assert "马庄村委会" in text and "唐庄村委会" in text


def test_household_and_event_pages_take_a_constant_number_of_queries(
    cast, login, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    event = services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
    client = login(cast.county_admin)
    urls = [f"/households/{h.pk}/", f"/households/events/{event.pk}/"]
    for url in urls:
        client.get(url)
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx))
    for n in range(2, 8):
        services.member_add(
            actor=cast.station_admin,
            household=h,
            data=services.MemberInput(f"成员{n}", "child", 2000, f"1351234{n:04d}"),
        )
        services.visit_log(actor=c.user, household=h, channel="phone", event=event, notes=f"{n}")
        services.event_report(actor=cast.station_admin, household=h, kind="illness", summary="y")
    for url, count in zip(urls, counts, strict=True):
        with django_assert_max_num_queries(count):
            assert client.get(url).status_code == 200
