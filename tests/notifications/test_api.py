from __future__ import annotations

import pytest

from wenming.notifications import services
from wenming.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_api_needs_login(client):
    assert client.get("/api/notifications/").status_code == 401


def test_api_lists_and_reads_ones_own(client, cast, login):
    services.notify(recipients=[cast.volunteer], verb="x", title="mine")
    services.notify(recipients=[cast.team_leader], verb="x", title="theirs")
    login(cast.volunteer)
    data = client.get("/api/notifications/").json()
    assert data["count"] == 1
    assert data["items"][0]["title"] == "mine"
    mine = Notification.objects.get(recipient=cast.volunteer)
    theirs = Notification.objects.get(recipient=cast.team_leader)
    assert client.post(f"/api/notifications/{theirs.pk}/read").status_code == 404
    response = client.post(f"/api/notifications/{mine.pk}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert client.get("/api/notifications/?unread=true").json()["count"] == 0
    services.notify(recipients=[cast.volunteer], verb="x", title="more")
    assert client.post("/api/notifications/read-all").json() == {"marked": 1}


def test_api_list_query_count_is_constant(
    client, cast, login, django_assert_num_queries, django_assert_max_num_queries
):
    login(cast.volunteer)
    services.notify(recipients=[cast.volunteer], verb="x", title="one")
    client.get("/api/notifications/")
    with django_assert_max_num_queries(8) as few:
        client.get("/api/notifications/")
    for i in range(30):
        services.notify(recipients=[cast.volunteer], verb="x", title=f"n{i}")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get("/api/notifications/")
