"""The register's API: the same rules and scope as the pages, masked data only, the
one error shape, constant query counts on lists."""

from __future__ import annotations

import pytest

from tests.households.helpers import VILLAGE, VILLAGE2, contact, household, state
from wenming.core.models import AuditEvent
from wenming.households import services
from wenming.households.models import Assignment, EventState, HouseholdEvent

pytestmark = pytest.mark.django_db
API = "/api/households"


def test_create_list_and_detail_show_masked_members_only(cast, login):
    client = login(cast.station_admin)
    response = client.post(
        API,
        {
            "region_code": VILLAGE,
            "address": "马庄村1组1号",
            "tags": ["empty_nest"],
            "members": [
                {"name": "王大山", "relation": "head", "birth_year": 1945, "phone": "13512340001"}
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["head_masked"] == "王**" and body["tags"] == ["empty_nest"]
    assert body["members"][0]["phone_masked"] == "135****0001"
    assert "王大山" not in response.content.decode()
    listed = client.get(API).json()
    assert listed["count"] == 1 and "13512340001" not in str(listed)


def test_errors_have_one_shape_and_write_nothing(cast, login):
    client = login(cast.station_admin)
    before = state()
    response = client.post(
        API, {"region_code": VILLAGE, "address": ""}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "rule_violation",
        "message": "请填写地址。",
        "field": "address",
    }
    assert state() == before


def test_outsider_404_and_read_only_403(cast, login):
    h = household(cast.station_admin, 1)
    other = household(cast.institute_admin, 2, region=VILLAGE2)
    assert login(cast.outsider).get(f"{API}/{h.pk}").status_code == 404
    client = login(cast.station_admin)
    assert client.get(f"{API}/{other.pk}").status_code == 404
    assert [x["id"] for x in client.get(API).json()["items"]] == [h.pk]
    client = login(cast.supervisor)
    before = state()
    response = client.post(
        f"{API}/{h.pk}/events", {"kind": "illness", "summary": "x"}, content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert state() == before
    assert login(cast.volunteer).get(API).json()["count"] == 0


def test_the_eleventh_household_is_refused_through_the_api(cast, login):
    c = contact(cast.county_admin)
    homes = [household(cast.station_admin, n) for n in range(11)]
    client = login(cast.station_admin)
    for h in homes[:10]:
        response = client.post(
            f"{API}/{h.pk}/assignments", {"contact_id": c.pk}, content_type="application/json"
        )
        assert response.status_code == 201
    before = state()
    response = client.post(
        f"{API}/{homes[10].pk}/assignments", {"contact_id": c.pk}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["code"] == "assignment_limit"
    assert state() == before
    coverage = client.get(f"{API}/coverage").json()
    assert (coverage["households"], coverage["covered"], coverage["uncovered_ids"]) == (
        11,
        10,
        [homes[10].pk],
    )


def test_the_contact_person_reports_logs_and_closes_through_the_api(cast, login):
    h = household(cast.station_admin, 1)
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="pair")
    client = login(c.user)
    mine = client.get(f"{API}/mine").json()
    assert [m["household"]["id"] for m in mine] == [h.pk] and mine[0]["kind"] == "pair"
    event = client.post(
        f"{API}/{h.pk}/events",
        {"kind": "difficulty", "summary": "缺粮"},
        content_type="application/json",
    ).json()
    assert event["channel"] == "contact" and event["state"] == "open"
    response = client.post(
        f"{API}/{h.pk}/visits",
        {
            "channel": "visit",
            "notes": "送米面",
            "event_id": event["id"],
            "close": True,
            "outcome": "已解决",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    detail = client.get(f"{API}/events/{event['id']}").json()
    assert detail["state"] == EventState.CLOSED and detail["answered_in_time"] is True
    assert [e["to_state"] for e in detail["timeline"]] == ["open", "closed"]
    # The contact person may reveal their household's phone (audited).
    member = h.members.get()
    response = client.post(
        f"{API}/members/{member.pk}/reveal",
        {"what": "phone", "reason": "联系"},
        content_type="application/json",
    )
    assert response.json() == {"value": "13512340001"}
    assert AuditEvent.objects.filter(verb="household.reveal", actor=c.user).count() == 1


def test_contacts_and_policy_and_figures(cast, login):
    from tests.activities.helpers import volunteer_user

    user = volunteer_user(cast.county_admin, 50)
    client = login(cast.station_admin)
    response = client.post(
        f"{API}/contacts",
        {"phone": user.phone, "region_code": VILLAGE},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["user_id"] == user.pk
    assert client.get(f"{API}/contacts").json()["count"] == 1
    assert (
        client.put(
            f"{API}/policy/320305000000", {"assignment_limit": 5}, content_type="application/json"
        ).status_code
        == 404
    )  # the county is outside the station admin's scope
    client = login(cast.county_admin)
    response = client.put(
        f"{API}/policy/320305000000",
        {
            "assignment_limit": 5,
            "response_hours": {"emergency": 1},
            "cadence_days": {"empty_nest": 3},
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["assignment_limit"] == 5 and body["response_hours"]["emergency"] == 1
    assert body["response_hours"]["bereavement"] == 24 and body["cadence_days"] == {"empty_nest": 3}
    h = household(cast.station_admin, 1)
    services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
    figures = client.get(f"{API}/figures?region=320305000000").json()
    assert figures["total"]["households"] == 1 and figures["total"]["by_kind"] == {"happy": 1}
    assert login(cast.outsider).get(f"{API}/figures?region=320305000000").status_code == 404


@pytest.mark.parametrize("url", ["", "/events", "/contacts", "/visits"])
def test_api_lists_take_a_constant_number_of_queries(cast, login, django_assert_num_queries, url):
    c = contact(cast.county_admin)

    def add(n: int) -> None:
        h = household(cast.station_admin, n, tags=("empty_nest",))
        services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
        services.event_report(actor=cast.station_admin, household=h, kind="happy", summary="x")
        services.visit_log(actor=cast.station_admin, household=h, channel="phone")

    add(0)
    client = login(cast.county_admin)
    client.get(API + url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        assert client.get(API + url).status_code == 200
    for n in range(1, 6):
        add(n)
    with django_assert_num_queries(len(first)):
        body = client.get(API + url).json()
    assert body["count"] == (1 if url == "/contacts" else 6)
    assert Assignment.objects.count() == 6 and HouseholdEvent.objects.count() == 6
