from __future__ import annotations

import pytest

from wenming.notifications import services
from wenming.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_inbox_needs_login(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_inbox_shows_only_ones_own_with_unread_filter(client, cast, login):
    services.notify(recipients=[cast.volunteer], verb="x", title="给志愿者的派单")
    services.notify(recipients=[cast.team_leader], verb="x", title="给队长的消息")
    login(cast.volunteer)
    page = client.get("/notifications/").content.decode()
    assert "给志愿者的派单" in page
    assert "给队长的消息" not in page
    assert "1 条未读" in page
    Notification.objects.filter(recipient=cast.volunteer).update(read_at="2026-01-01T00:00Z")
    assert "给志愿者的派单" not in client.get("/notifications/?unread=1").content.decode()


def test_reading_follows_the_link_and_refuses_someone_elses(client, cast, login):
    services.notify(recipients=[cast.volunteer], verb="x", title="t", url="/records/mine/")
    services.notify(recipients=[cast.team_leader], verb="x", title="t2")
    mine = Notification.objects.get(recipient=cast.volunteer)
    theirs = Notification.objects.get(recipient=cast.team_leader)
    login(cast.volunteer)
    response = client.post(f"/notifications/{mine.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == "/records/mine/"
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(f"/notifications/{mine.pk}/read/").status_code == 405


def test_an_offsite_link_is_not_followed(client, cast, login):
    services.notify(recipients=[cast.volunteer], verb="x", title="t", url="https://evil.example/")
    n = Notification.objects.get()
    login(cast.volunteer)
    response = client.post(f"/notifications/{n.pk}/read/")
    assert response["Location"] == "/notifications/"


def test_read_all_and_badge(client, cast, login):
    assert client.get("/notifications/badge/").content.strip() == b""
    services.notify(recipients=[cast.volunteer], verb="x", title="a")
    services.notify(recipients=[cast.volunteer], verb="x", title="b")
    login(cast.volunteer)
    assert 'id="nav-unread"' in client.get("/notifications/badge/").content.decode()
    assert ">2<" in client.get("/notifications/badge/").content.decode()
    client.post("/notifications/read-all/")
    assert "nav-unread" not in client.get("/notifications/badge/").content.decode()


def test_pages_link_the_inbox_for_logged_in_users_only(client, cast, login):
    assert 'id="nav-inbox"' not in client.get("/").content.decode()
    login(cast.volunteer)
    assert 'id="nav-inbox"' in client.get("/").content.decode()


def test_inbox_query_count_is_constant(client, cast, login, django_assert_max_num_queries):
    login(cast.volunteer)
    services.notify(recipients=[cast.volunteer], verb="x", title="one")
    client.get("/notifications/")
    with django_assert_max_num_queries(8) as few:
        client.get("/notifications/")
    for i in range(20):
        services.notify(recipients=[cast.volunteer], verb="x", title=f"n{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/notifications/")
    assert response.content.decode().count('id="notification-') == 21
