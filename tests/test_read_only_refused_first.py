"""A read-only supervisor is refused (403) before anything he sent is validated, and
before a form is shown to him."""

from __future__ import annotations

import json

import pytest

from tests.households.helpers import household
from tests.volunteers.test_services import register
from wenming.core.models import AuditEvent


@pytest.fixture
def targets(cast):
    return {"h": household(cast.station_admin), "v": register(cast.county_admin, 1)}


@pytest.mark.parametrize("url", ["/households/{h}/event/", "/households/{h}/visit/"])
def test_forms_are_not_served_to_the_supervisor(client, cast, targets, url):
    client.force_login(cast.supervisor)
    response = client.get(url.format(h=targets["h"].pk))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/volunteers/{v}/review/",
        "/volunteers/{v}/reveal/",
        "/volunteers/{v}/active/",
        "/households/{h}/members/",
        "/households/{h}/event/",
        "/households/{h}/visit/",
    ],
)
def test_empty_posts_from_the_supervisor_are_403(client, cast, targets, url):
    client.force_login(cast.supervisor)
    before = AuditEvent.objects.count()
    response = client.post(url.format(h=targets["h"].pk, v=targets["v"].pk), {})
    assert response.status_code == 403
    assert AuditEvent.objects.count() == before


def test_api_registration_by_the_supervisor_is_403_whatever_the_input(client, cast, net):
    client.force_login(cast.supervisor)
    body = {"name": "张三", "phone": "13712340009", "id_number": "bad", "region_code": "x"}
    response = client.post("/api/volunteers", json.dumps(body), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
