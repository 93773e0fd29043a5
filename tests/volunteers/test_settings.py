"""Volunteer settings: a unit's registration approval and a jurisdiction's star
thresholds, set by the staff who manage them, audited, and refused to everyone else."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.volunteers.test_services import register
from wenming.core.errors import Forbidden, NotFound
from wenming.core.models import AuditEvent
from wenming.volunteers import services
from wenming.volunteers.models import RegistrationPolicy, StarPolicy, Volunteer, VolunteerStatus


def policy_state() -> tuple:
    return (
        list(RegistrationPolicy.objects.values_list("unit_id", "approval_required")),
        list(StarPolicy.objects.values_list("region_id", "thresholds")),
        AuditEvent.objects.count(),
    )


def test_registration_policy_decides_the_next_registration(cast, net):
    assert services.registration_policy_set(
        actor=cast.station_admin, unit=net.station, approval_required=True
    )
    assert register(cast.county_admin, 1).status == VolunteerStatus.PENDING
    event = AuditEvent.objects.get(verb="volunteer.registration_policy")
    assert event.changes == {"approval_required": [False, True]}
    # Setting the same value again changes and audits nothing.
    before = policy_state()
    assert not services.registration_policy_set(
        actor=cast.station_admin, unit=net.station, approval_required=True
    )
    assert policy_state() == before
    services.registration_policy_set(
        actor=cast.station_admin, unit=net.station, approval_required=False
    )
    assert register(cast.county_admin, 2).status == VolunteerStatus.ACTIVE


@pytest.mark.parametrize(
    ("who", "error"),
    [("supervisor", Forbidden), ("team_leader", Forbidden), ("outsider", NotFound)],
)
def test_registration_policy_refused(cast, net, who, error):
    before = policy_state()
    with pytest.raises(error):
        services.registration_policy_set(
            actor=getattr(cast, who), unit=net.station, approval_required=True
        )
    assert policy_state() == before


def test_settings_page_toggles_approval(cast, net, login):
    client = login(cast.institute_admin)
    page = client.get("/volunteers/settings/")
    assert page.status_code == 200
    body = page.content.decode()
    assert net.station.name in body and net.center.name not in body  # only the town's units
    assert 'id="star-policy"' not in body  # stars are set per county, not per town
    response = client.post(
        f"/volunteers/settings/unit/{net.station.pk}/", {"approval_required": "1", "qs": "q=站"}
    )
    assert response.status_code == 302
    assert unquote(response.url) == "/volunteers/settings/?q=站"
    assert RegistrationPolicy.objects.get(unit=net.station).approval_required


@pytest.mark.parametrize(("who", "status"), [("supervisor", 403), ("outsider", 404)])
def test_settings_page_refused(cast, net, login, who, status):
    client = login(getattr(cast, who))
    before = policy_state()
    response = client.post(
        f"/volunteers/settings/unit/{net.station.pk}/", {"approval_required": "1"}
    )
    assert response.status_code == status
    assert policy_state() == before


def test_settings_page_denied_to_read_only(cast, login):
    assert login(cast.supervisor).get("/volunteers/settings/").status_code == 403


def test_settings_page_queries_are_constant(cast, net, login):
    client = login(cast.county_admin)
    client.get("/volunteers/settings/")
    with CaptureQueriesContext(connection) as few:
        client.get("/volunteers/settings/")
    for i, unit in enumerate([net.station, net.station2, net.institute]):
        services.registration_policy_set(
            actor=cast.county_admin, unit=unit, approval_required=bool(i % 2)
        )
    with CaptureQueriesContext(connection) as more:
        client.get("/volunteers/settings/")
    assert len(more) == len(few)


def test_star_policy_page_recomputes_stars(cast, net, login):
    v = register(cast.county_admin, 1)
    Volunteer.objects.filter(pk=v.pk).update(confirmed_minutes=60 * 60)
    client = login(cast.county_admin)
    body = client.get("/volunteers/settings/").content.decode()
    assert 'id="star-policy"' in body and 'value="100"' in body
    response = client.post(
        "/volunteers/settings/stars/",
        {
            "region": net.county.code,
            "star1": 50,
            "star2": 60,
            "star3": 70,
            "star4": 80,
            "star5": 90,
        },
    )
    assert response.status_code == 302
    assert StarPolicy.objects.get(region=net.county).thresholds == [50, 60, 70, 80, 90]
    assert Volunteer.objects.get(pk=v.pk).star_level == 2


def test_star_policy_page_refuses_bad_thresholds(cast, net, login):
    client = login(cast.county_admin)
    before = policy_state()
    for bad in ([100, 50, 600, 1000, 1500], [0, 1, 2, 3, 4], ["x", 2, 3, 4, 5]):
        data = {"region": net.county.code} | {f"star{i}": h for i, h in enumerate(bad, start=1)}
        response = client.post("/volunteers/settings/stars/", data, follow=True)
        assert response.status_code == 200
        assert "alert-danger" in response.content.decode() or "请" in response.content.decode()
    assert policy_state() == before


def test_star_policy_page_outside_scope(cast, net, login):
    client = login(cast.county_admin)
    before = policy_state()
    response = client.post(
        "/volunteers/settings/stars/",
        {
            "region": net.other_county.code,
            "star1": 1,
            "star2": 2,
            "star3": 3,
            "star4": 4,
            "star5": 5,
        },
    )
    assert response.status_code == 404
    assert policy_state() == before
