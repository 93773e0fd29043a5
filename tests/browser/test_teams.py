"""Teams in headless Chromium, at phone (375 px) and desktop (1280 px) width: a
volunteer finds a team through the menu and asks to join; the leader approves the
request on the team page; the volunteer then sees themself in the team and on 我的."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.browser.conftest import WIDTHS
from tests.conftest import PASSWORD
from tests.volunteers.teams_cast import Crew, build_crew
from wenming.volunteers.models import Membership, MembershipStatus, TeamType

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def team_types(db) -> None:
    """The live server's database is flushed between tests, the seeded types with it."""
    for sort, name in enumerate(["理论宣讲", "文化文艺", "助老助残"]):
        TeamType.objects.get_or_create(name=name, defaults={"sort": sort})


@pytest.fixture
def crew(team_types, net, cast) -> Crew:
    return build_crew(net, cast)


def open_nav(page: Any) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        expect(page.locator("#nav")).to_have_class(re.compile(r"\bshow\b"))


def log_in(page: Any, base: str, phone: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("#id_phone", phone)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-brand")
    page.wait_for_url(base + "/")
    page.wait_for_load_state()


def test_join_and_approve(live_server, crew, new_page, shot, width):
    base = live_server.url
    team = crew.team

    # The volunteer (same county, not in the team) finds it through the menu.
    phone = new_page(width)
    log_in(phone, base, crew.stranger.phone)
    open_nav(phone)
    phone.locator("#nav").get_by_role("link", name="服务队", exact=True).click()
    phone.wait_for_url(base + "/teams/")
    phone.wait_for_load_state()
    expect(phone.locator("h1")).to_have_text("找服务队")
    expect(phone.locator("#team-table")).to_contain_text(team.name)
    shot(phone, "find-teams")

    phone.get_by_role("link", name=team.name).click()
    phone.wait_for_url(base + f"/teams/{team.pk}/")
    phone.wait_for_load_state()
    expect(phone.locator("#members-private")).to_be_visible()
    expect(phone.locator("#activities")).to_contain_text("目前还没有已发布的活动")
    shot(phone, "team-before-joining")
    phone.locator("#team-join").click()
    phone.wait_for_load_state()
    expect(phone.locator(".alert-success[role=alert]")).to_contain_text("已提交入队申请")
    expect(phone.locator("#my-membership")).to_have_text("您的入队申请正在等待队长审核。")
    request = Membership.objects.get(volunteer=crew.stranger_v, status=MembershipStatus.PENDING)
    shot(phone, "requested")

    # The leader sees the request on the team page and approves it.
    desk = new_page(width)
    log_in(desk, base, crew.leader.phone)
    desk.goto(base + f"/teams/{team.pk}/")
    desk.wait_for_load_state()
    row = desk.locator(f"#request-{request.pk}")
    expect(row).to_contain_text(crew.stranger_v.name)
    shot(desk, "leader-sees-requests")
    row.get_by_role("button", name="同意").click()
    desk.wait_for_load_state()
    expect(desk.locator(".alert-success[role=alert]")).to_contain_text(
        f"已批准 {crew.stranger_v.name} 入队。"
    )
    expect(desk.locator("#member-table")).to_contain_text(crew.stranger_v.name)
    expect(desk.locator("#team-member-count")).to_have_text("3")
    shot(desk, "leader-approved")
    request.refresh_from_db()
    assert request.status == MembershipStatus.ACTIVE

    # The volunteer is in: on the team page and on 我的.
    phone.reload()
    phone.wait_for_load_state()
    expect(phone.locator("#my-membership")).to_have_text("您是本队队员。")
    expect(phone.locator("#member-table")).to_contain_text(crew.leader_v.name)
    shot(phone, "member")
    phone.goto(base + "/volunteers/me/")
    phone.wait_for_load_state()
    expect(phone.locator("#my-teams")).to_contain_text(team.name)
    expect(phone.locator("#my-teams")).to_contain_text("在队")
    shot(phone, "me")


def test_staff_team_pages(live_server, cast, crew, new_page, shot, width):
    """The staff views of the list and a team page (for the screenshots, and that the
    member table and the actions fit the width)."""
    base = live_server.url
    page = new_page(width)
    log_in(page, base, cast.county_admin.phone)
    page.goto(base + "/teams/")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("志愿服务队")
    expect(page.locator("#team-create")).to_be_visible()
    shot(page, "team-list")
    page.goto(base + f"/teams/{crew.team.pk}/")
    page.wait_for_load_state()
    expect(page.locator("#member-table")).to_contain_text(crew.member_v.phone_masked)
    # Nothing sticks out sideways at phone width.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, "team-detail")
    page.goto(base + "/teams/new/")
    page.wait_for_load_state()
    shot(page, "team-form")
    page.goto(base + f"/volunteers/?team={crew.team.pk}")
    page.wait_for_load_state()
    expect(page.locator("#volunteer-table")).to_contain_text(crew.member_v.name)
    shot(page, "volunteers-of-team")
