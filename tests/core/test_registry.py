"""The domain registry: every domain declares what it offers; the menu, the home page,
the 我的 page, the demo loader and the figures read it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.activities.helpers import make_activity, volunteer_user
from tests.conftest import make_user
from tests.demands.helpers import submit
from wenming.activities.models import ActivityState
from wenming.core import registry
from wenming.core.errors import NotFound
from wenming.core.figures import by_child, child_length, figure_for
from wenming.core.home import menu_for
from wenming.core.registry import Domain, MenuEntry, Period
from wenming.core.roles import ROLE_PERMS, Perm, Role
from wenming.volunteers.models import Volunteer

DOMAINS = {
    "core",
    "network",
    "volunteers",
    "activities",
    "records",
    "certificates",
    "notifications",
    "demands",
    "open311",
    "households",
    "fund",
}


def test_every_domain_is_registered_once_with_working_links(db):
    assert {d.name for d in registry.domains()} == DOMAINS
    for entry in registry.menu_entries():
        assert entry.href.startswith("/")
    for action in registry.home_actions():
        assert action.href.startswith("/")
    for export in registry.exports():
        assert reverse(export.url).startswith("/")
    keys = [m.key for m in registry.menu_entries()]
    assert len(keys) == len(set(keys))
    seeds = [s.name for s in registry.seeds()]
    assert seeds[0] == "network" and seeds[-1] == "checkin_today"


def test_a_domain_cannot_take_another_domains_key():
    clash = Domain("intruder", "x", menu=(MenuEntry("audit", "x", "audit", "anyone"),))
    with pytest.raises(ValueError, match="core"):
        registry.register(clash)
    assert "intruder" not in {d.name for d in registry.domains()}


def test_a_domain_grants_its_permissions_to_roles(monkeypatch):
    monkeypatch.setattr(registry, "_DOMAINS", dict(registry._DOMAINS))
    monkeypatch.setitem(ROLE_PERMS, Role.MEDIA_EDITOR, ROLE_PERMS[Role.MEDIA_EDITOR])
    registry.register(
        Domain("extra", "x", grants={Role.MEDIA_EDITOR: frozenset({Perm.AUDIT_VIEW})})
    )
    assert Perm.AUDIT_VIEW in ROLE_PERMS[Role.MEDIA_EDITOR]
    assert Perm.NETWORK_VIEW in ROLE_PERMS[Role.MEDIA_EDITOR]  # what it had stays


def _menu(user, *, is_volunteer=False):
    menu = menu_for(user, is_volunteer=is_volunteer)
    return [e.key for e in menu.main], [e.key for e in menu.manage], menu.manage_dropdown


def test_menu_by_audience(cast):
    from django.contrib.auth.models import AnonymousUser

    assert _menu(AnonymousUser()) == (["home", "activities", "demands", "fund_public"], [], False)
    resident = make_user("13700000002", "居民", Role.RESIDENT, "320305005204")
    # A resident's 操作记录 sits in the bar: there is no 管理 menu for one entry.
    assert _menu(resident) == (["home", "activities", "demands", "fund_public"], ["audit"], False)
    main, manage, dropdown = _menu(cast.volunteer, is_volunteer=True)
    assert main == ["home", "activities", "demands", "tasks", "me", "teams_mine", "fund_public"]
    assert (manage, dropdown) == (["audit"], False)
    main, manage, dropdown = _menu(cast.county_admin)
    # Staff's 群众点单 takes the place of the resident's 我要点单.
    assert main == ["home", "activities", "demands_manage", "households"]
    assert manage == [
        "network", "units", "volunteers", "teams", "certificates", "fund", "open311", "audit",
    ]  # fmt: skip
    assert dropdown
    main, manage, _ = _menu(cast.supervisor)
    assert "open311" not in manage and "admin_site" not in manage
    assert "admin_site" in _menu(cast.sysadmin)[1]


def test_the_bar_renders_the_registry(cast, login):
    html = login(cast.county_admin).get("/").content.decode()
    assert 'id="nav-manage"' in html and 'id="nav-demands-manage"' in html
    assert 'id="nav-demands"' not in html
    html = login(volunteer_user(cast.station_admin, 1)).get("/").content.decode()
    assert 'id="nav-manage"' not in html and 'id="nav-tasks"' in html


def _ancestor_ids(html: str) -> dict[str, set[str]]:
    """For each element id, the ids of the elements it sits in."""
    from html.parser import HTMLParser

    void = {"input", "br", "img", "meta", "link", "hr", "source"}
    stack: list[str] = []
    found: dict[str, set[str]] = {}

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            element_id = dict(attrs).get("id") or ""
            if element_id:
                found[element_id] = {i for i in stack if i}
            if tag not in void:
                stack.append(element_id)

        def handle_endtag(self, tag):
            if tag not in void and stack:
                stack.pop()

    Parser().feed(html)
    return found


def test_me_page_shows_each_domains_panel(cast, login):
    user = volunteer_user(cast.station_admin, 1)
    html = login(user).get("/volunteers/me/").content.decode()
    for card in ("my-teams", "my-records-card", "my-certificates-card", "my-activities"):
        assert f'id="{card}"' in html
    assert 'id="my-calendar"' in html
    # Only a household contact person gets the 包挂户 card.
    assert 'id="my-households-card"' not in html
    # Each card holds its own link and no other card (the templates close what they open).
    parents = _ancestor_ids(html)
    assert "my-records-card" in parents["my-records-link"]
    assert "my-certificates-card" in parents["my-certificates-link"]
    assert "my-records-card" not in parents["my-certificates-card"]
    assert not {"my-teams", "my-activities"} & parents["me-form"]
    keys = [p.key for p in registry.panels(registry.ME_PAGE)]
    assert keys == ["teams", "households", "records", "certificates", "activities", "calendar"]


# ---------------------------------------------------------------- figures


def test_period():
    assert Period.month(2026, 12) == Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert Period.month(2026, 2).end == dt.date(2026, 2, 28)
    assert Period.year(2026).end == dt.date(2026, 12, 31)
    with pytest.raises(ValueError):
        Period(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    start, stop = Period.month(2026, 12).bounds()
    assert stop - start == dt.timedelta(days=31)


def test_child_length():
    assert [child_length(p) for p in ("32", "3203", "320305", "320305005", "320305005204")] == [
        4, 6, 9, 12, 12,
    ]  # fmt: skip


def test_figures_group_by_child_region_in_one_query(cast, net):
    now = timezone.now()
    period = Period(now.date() - dt.timedelta(days=30), now.date() + dt.timedelta(days=30))
    for n in range(3):
        volunteer_user(cast.station_admin, n)  # 马庄村委会, under 潘安湖街道
    make_activity(cast.county_admin, net.station, ActivityState.PUBLISHED)
    make_activity(cast.county_admin, net.station2, ActivityState.FINISHED)
    make_activity(cast.county_admin, net.station2, ActivityState.DRAFT)  # not held
    submit()
    town = "320305005000"
    expect = {
        "volunteers.registered": ({town: 3.0}, {"320305005204": 3.0}),
        "activities.held": ({town: 2.0}, {"320305005204": 1.0, "320305005200": 1.0}),
        "demands.orders": ({town: 1.0}, {"320305005204": 1.0}),
        "demands.completed": ({}, {}),
        "records.hours": ({}, {}),
        "households.events": ({}, {}),
    }
    assert set(expect) == {f.key for f in registry.figures()}
    for item in registry.figures():
        with CaptureQueriesContext(connection) as queries:
            by_county = item.compute("320305", period)
        assert len(queries) == 1, item.key
        assert by_county == expect[item.key][0], item.key
        assert item.compute("320305005", period) == expect[item.key][1], item.key
    # A period before any of it: nothing.
    empty = Period(dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert registry.figure("volunteers.registered").compute("320305", empty) == {}
    assert Volunteer.objects.count() == 3


def test_figure_for_checks_the_actors_scope(cast, net):
    period = Period.year(timezone.now().year)
    volunteer_user(cast.station_admin, 1)
    assert figure_for(
        actor=cast.institute_admin, key="volunteers.registered", region_code="320305005000",
        period=period,
    ) == {"320305005204": 1.0}  # fmt: skip
    for actor, code in [
        (cast.outsider, "320305000000"),
        (cast.station_admin, "320305005000"),  # above its village
        (cast.volunteer, "320305005204"),
        (cast.county_admin, "junk"),
    ]:
        with pytest.raises(NotFound):
            figure_for(actor=actor, key="volunteers.registered", region_code=code, period=period)


def test_by_child_ignores_junk_prefix(db):
    assert by_child(Volunteer.objects.all(), "region_id", "32x", Count("id")) == {}
