"""The home page: counters of the actor's scope, the landing page, elderly mode."""

from __future__ import annotations

import pytest

from wenming.core.context_processors import ELDERLY_COOKIE

COUNTER_KEYS = [
    "network.centers",
    "network.institutes",
    "network.stations",
    "network.points",
    "network.villages",
    "network.staff",
]


def _counters(response) -> dict[str, int]:
    """The network's counters (other domains add their own; they test them)."""
    return {
        counter.key: value
        for counter, value in response.context["counters"]
        if counter.key.startswith("network.")
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # 贾汪区: 1 center, 2 institutes, 3 stations, 1 point, 3 villages; staff with a
        # live grant under 320305: county, institute, station admins, team leader, volunteer.
        ("county_admin", [1, 2, 3, 1, 3, 5]),
        # 潘安湖街道: its institute, its 2 stations, the point in 马庄; its 2 villages.
        ("institute_admin", [0, 1, 2, 1, 2, 4]),
        # 马庄村委会 only: its station and the point; the station admin and the volunteer.
        ("station_admin", [0, 0, 1, 1, 1, 2]),
        # 徐州市: both counties.
        ("supervisor", [2, 3, 3, 1, 4, 7]),
        # 泉山区: its center and institute; one village without a station.
        ("outsider", [1, 1, 0, 0, 1, 1]),
        # The whole province.
        ("sysadmin", [2, 3, 3, 1, 4, 8]),
    ],
)
def test_home_counters_match_the_scope(cast, login, who, expected):
    client = login(getattr(cast, who))
    response = client.get("/")
    assert response.status_code == 200
    assert list(_counters(response)) == COUNTER_KEYS
    assert _counters(response) == dict(zip(COUNTER_KEYS, expected, strict=True))
    assert 'id="home-counters"' in response.content.decode()


def test_station_admin_counts_only_its_village(cast, login):
    client = login(cast.station_admin)
    response = client.get("/")
    html = response.content.decode()
    assert [r.code for r in response.context["scope_regions"]] == ["320305005204"]
    assert "马庄村委会" in html
    # Neither the neighbouring village nor the other town is named as in scope.
    assert "唐庄村委会" not in html
    assert "青山泉镇" not in html


def test_volunteer_sees_no_counters(cast, login):
    client = login(cast.volunteer)
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["counters"] == []
    assert response.context["scope_regions"] == []
    html = response.content.decode()
    assert 'id="home-counters"' not in html
    assert "stat-number" not in html
    assert "志愿者" in html  # the role badge


def test_user_without_grants_is_told_so(net, login):
    from tests.conftest import make_user

    user = make_user("13700000000", "新用户")
    response = login(user).get("/")
    assert response.context["counters"] == []
    assert "您还没有被授予工作角色。" in response.content.decode()


def test_home_lists_my_recent_actions_only(cast, login):
    login(cast.county_admin)
    client = login(cast.station_admin)
    response = client.get("/")
    recent = response.context["recent"]
    assert [(e.verb, e.actor_id) for e in recent] == [("user.login", cast.station_admin.pk)]


def test_anonymous_gets_the_landing_page(client, net):
    response = client.get("/")
    assert response.status_code == 200
    assert response.templates[0].name == "core/landing.html"
    html = response.content.decode()
    assert 'href="/accounts/login/"' in html
    assert "新时代文明实践平台" in html
    assert "home-counters" not in html


def test_elderly_mode_on_then_off(client, net):
    assert 'class="elderly"' not in client.get("/").content.decode()

    response = client.post("/prefs/elderly/", {"on": "1", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    cookie = response.cookies[ELDERLY_COOKIE]
    assert cookie.value == "1"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"

    for path in ("/", "/accounts/login/"):
        html = client.get(path).content.decode()
        assert '<body class="elderly"' in html, path

    response = client.post("/prefs/elderly/", {"on": "0"})
    assert response["Location"] == "/"
    assert response.cookies[ELDERLY_COOKIE].value == "0"
    assert '<body class=""' in client.get("/").content.decode()


def test_elderly_mode_works_when_logged_in(cast, login):
    client = login(cast.station_admin)
    client.post("/prefs/elderly/", {"on": "1"})
    assert '<body class="elderly"' in client.get("/").content.decode()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "http://evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_elderly_toggle_does_not_follow_an_off_site_next(client, net, target):
    response = client.post("/prefs/elderly/", {"on": "1", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[ELDERLY_COOKIE].value == "1"


def test_elderly_toggle_needs_post(client, net):
    response = client.get("/prefs/elderly/?on=1")
    assert response.status_code == 405
    assert ELDERLY_COOKIE not in response.cookies


# ---------------------------------------------------------------- what each role does


def _actions(page) -> list[str]:
    import re

    return re.findall(r'id="action-([a-z_]+)"', page.content.decode())


def test_a_resident_is_led_to_ordering_and_their_orders(net, login):
    from tests.conftest import make_user
    from wenming.core.roles import Role

    resident = make_user("13700000001", "居民", Role.RESIDENT, "320305005204")
    page = login(resident).get("/")
    assert _actions(page) == ["order", "my_orders", "activities"]
    assert "我最近的操作" not in page.content.decode()


def test_a_volunteer_is_led_to_check_in_records_and_teams(cast, login):
    from tests.volunteers.test_services import id_number, reg_input
    from wenming.volunteers import services

    services.volunteer_register(
        actor=cast.volunteer,
        data=reg_input(phone=cast.volunteer.phone, id_number=id_number(seq="555")),
        self_service=True,
    )
    page = login(cast.volunteer).get("/")
    assert _actions(page) == [
        "order", "my_orders", "activities", "checkin", "me", "tasks", "my_records", "teams",
    ]  # fmt: skip
    assert "我最近的操作" not in page.content.decode()
    # Every button leads somewhere the volunteer may go.
    client = login(cast.volunteer)
    for href in __import__("re").findall(r'class="card home-action[^"]*" href="([^"]+)"',
                                         page.content.decode()):  # fmt: skip
        assert client.get(href).status_code == 200, href


def test_staff_are_led_to_their_work_queues(cast, login):
    page = login(cast.station_admin).get("/")
    actions = _actions(page)
    assert {"review_volunteers", "manage_orders", "manage_activities", "households"} <= set(actions)
    assert "我最近的操作" in page.content.decode()
    # The read-only supervisor gets no work queue he cannot act on.
    assert not {"review_volunteers", "manage_orders", "manage_activities"} & set(
        _actions(login(cast.supervisor).get("/"))
    )
