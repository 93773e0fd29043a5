"""The activities API: public reads, staff writes through the services, sign-up and
cancel, the one error shape, scoping and constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.activities.helpers import audit_count, make_activity, published, volunteer_user
from wenming.activities.models import Activity, ActivityState, SignUp

S = ActivityState


def _payload(unit, **overrides):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    values = {
        "title": "API 活动",
        "work_item": "theory",
        "unit_id": unit.pk,
        "venue": "所里会议室",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "quota": 1,
    }
    values.update(overrides)
    return values


def test_public_list_and_detail_need_no_login(client, cast, net):
    activity = published(cast.station_admin, net.station)
    draft = make_activity(cast.station_admin, net.station, title="草稿")
    listing = client.get("/api/activities")
    assert listing.status_code == 200
    assert [i["id"] for i in listing.json()["items"]] == [activity.pk]
    assert client.get(f"/api/activities/{activity.pk}").json()["state"] == "published"
    response = client.get(f"/api/activities/{draft.pk}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_staff_create_publish_then_volunteers_sign_up_and_cancel(client, cast, net, login):
    login(cast.station_admin)
    response = client.post(
        "/api/activities", _payload(net.station), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    response = client.post(
        f"/api/activities/{pk}/transitions", {"action": "publish"}, content_type="application/json"
    )
    assert response.json()["state"] == "published"
    first, second = (volunteer_user(cast.county_admin, n) for n in (1, 2))
    login(first)
    assert client.post(f"/api/activities/{pk}/signups").json()["state"] == "signed_up"
    again = client.post(f"/api/activities/{pk}/signups")
    assert (again.status_code, again.json()["code"]) == (400, "duplicate")
    login(second)
    assert client.post(f"/api/activities/{pk}/signups").json()["position"] == 1
    login(first)
    assert client.post(f"/api/activities/{pk}/signups/cancel").json()["state"] == "cancelled"
    login(second)
    mine = client.get("/api/activities/mine").json()["items"]
    assert [(m["activity_id"], m["state"]) for m in mine] == [(pk, "signed_up")]
    login(cast.station_admin)
    roster = client.get(f"/api/activities/{pk}/signups").json()
    assert [r["state"] for r in roster] == ["signed_up", "cancelled"]


def test_refused_transition_is_400_and_changes_nothing(client, cast, net, login):
    activity = make_activity(cast.station_admin, net.station)
    login(cast.station_admin)
    before = audit_count()
    response = client.post(
        f"/api/activities/{activity.pk}/transitions",
        {"action": "finish"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "rule_violation")
    assert Activity.objects.get(pk=activity.pk).state == S.DRAFT
    assert audit_count() == before


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("supervisor", 403)])
def test_writes_outside_the_scope(client, cast, net, login, who, status):
    activity = make_activity(cast.station_admin, net.station)
    login(getattr(cast, who))
    before = (audit_count(), Activity.objects.count())
    response = client.post(
        f"/api/activities/{activity.pk}/transitions",
        {"action": "publish"},
        content_type="application/json",
    )
    assert response.status_code == status
    response = client.post(
        "/api/activities", _payload(net.station), content_type="application/json"
    )
    assert response.status_code == status
    assert (audit_count(), Activity.objects.count()) == before
    assert Activity.objects.get(pk=activity.pk).state == S.DRAFT


def test_anonymous_cannot_sign_up(client, cast, net):
    activity = published(cast.station_admin, net.station)
    assert client.post(f"/api/activities/{activity.pk}/signups").status_code == 401
    assert SignUp.objects.count() == 0


@pytest.mark.parametrize("url", ["/api/activities", "/api/activities/manage"])
def test_api_lists_take_a_constant_number_of_queries(client, cast, net, login, url):
    login(cast.county_admin)
    published(cast.station_admin, net.station)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(10):
        published(cast.station_admin, net.station, title=f"活动{n}")
    assert count() == few


def test_projects_and_subcategories(client, cast, net, login):
    subs = client.get("/api/activities/subcategories").json()
    assert {s["work_item"] for s in subs} == {"theory", "policy", "values", "culture", "customs"}
    login(cast.county_admin)
    response = client.post(
        "/api/activities/projects",
        {"name": "幸福巴士", "unit_id": net.center.pk, "is_brand": True},
        content_type="application/json",
    )
    assert response.status_code == 201
    client.cookies.clear()
    assert [p["name"] for p in client.get("/api/activities/projects").json()["items"]] == [
        "幸福巴士"
    ]
    login(cast.county_admin)
    response = client.post(
        "/api/activities/subcategories",
        {"work_item": "culture", "name": "戏曲进村"},
        content_type="application/json",
    )
    assert response.status_code == 403
    login(cast.sysadmin)
    response = client.post(
        "/api/activities/subcategories",
        {"work_item": "culture", "name": "戏曲进村"},
        content_type="application/json",
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    response = client.put(
        f"/api/activities/subcategories/{pk}",
        {"work_item": "culture", "name": "戏曲进村", "is_active": False},
        content_type="application/json",
    )
    assert response.json()["is_active"] is False


def test_signup_api_refusals_change_nothing(client, cast, net, login):
    # The sign-up path reads the activity and the caller's volunteer record in one lean
    # query; each refusal still says why and writes nothing.
    from wenming.core.models import AuditEvent
    from wenming.volunteers.models import Volunteer, VolunteerStatus

    activity = published(cast.station_admin, net.station)
    draft = make_activity(cast.station_admin, net.station, title="草稿")
    user = volunteer_user(cast.county_admin, 1)
    signup_events = AuditEvent.objects.filter(verb__startswith="signup.")
    before = (SignUp.objects.count(), signup_events.count())

    def code(pk: int) -> tuple[int, str]:
        response = client.post(f"/api/activities/{pk}/signups")
        return response.status_code, response.json()["code"]

    login(cast.volunteer)  # a login without a volunteer record
    assert code(activity.pk) == (400, "not_volunteer")
    login(user)
    assert code(draft.pk) == (404, "not_found")
    assert code(999999) == (404, "not_found")
    Volunteer.objects.filter(user=user).update(status=VolunteerStatus.SUSPENDED)
    assert code(activity.pk) == (400, "not_active")
    assert (SignUp.objects.count(), signup_events.count()) == before
    login(cast.station_admin)  # staff see the draft, but are not volunteers
    assert code(draft.pk) == (400, "not_volunteer")
