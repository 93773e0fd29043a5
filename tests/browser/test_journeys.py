"""End-to-end journeys in headless Chromium, at phone (375 px) and desktop (1280 px)
width: log in, the home counters, the unit tree with htmx loading, a unit page, the
elderly mode (长辈模式) and its persistence, the audit log, scoping, and English."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.browser.conftest import WIDTHS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def open_nav(page: Any) -> None:
    """At phone width the navbar is collapsed behind the hamburger: open it."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        expect(page.locator("#nav")).to_have_class(re.compile(r"\bshow\b"))


def log_in(page: Any, base: str, phone: str, shot: Any) -> None:
    page.goto(base + "/accounts/login/")
    shot(page, "login")
    page.fill("#id_phone", phone)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-brand")
    page.wait_for_url(base + "/")
    page.wait_for_load_state()


def test_county_admin_journey(live_server, cast, net, new_page, shot, width):
    base = live_server.url
    page = new_page(width)
    log_in(page, base, cast.county_admin.phone, shot)

    # Home: greeting and counters, in Chinese although the browser asks for English.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("县管理员")
    expect(page.locator("#home-counters .stat-card").first).to_be_visible()
    shot(page, "home")

    # 实践网络: the center with its towns' institutes already open.
    open_nav(page)
    page.click("#nav-manage")  # staff pages sit in the 管理 menu
    page.locator("#nav").get_by_role("link", name="实践网络", exact=True).click()
    page.wait_for_url(base + "/network/")
    page.wait_for_load_state()
    tree = page.locator("#unit-tree")
    expect(tree).to_contain_text(net.center.name)
    expect(tree).to_contain_text(net.institute.name)
    expect(tree).to_contain_text(net.other_institute.name)
    expect(tree).not_to_contain_text(net.station.name)  # villages load on demand
    expect(tree).not_to_contain_text(net.other_center.name)  # another county
    shot(page, "tree")

    # Expand a town: htmx loads its villages' stations.
    page.locator(f"#unit-{net.institute.pk} > button.toggle").click()
    children = page.locator(f"#children-{net.institute.pk}")
    expect(children.get_by_role("link", name=net.station.name, exact=True)).to_be_visible()
    expect(children.get_by_role("link", name=net.station2.name, exact=True)).to_be_visible()
    shot(page, "tree-expanded")

    # The same button collapses the branch and opens it again (no second request).
    toggle = page.locator(f"#unit-{net.institute.pk} > button.toggle")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(children.get_by_role("link", name=net.station.name, exact=True)).to_be_hidden()
    toggle.click()
    expect(children.get_by_role("link", name=net.station.name, exact=True)).to_be_visible()

    # A unit page.
    children.get_by_role("link", name=net.station.name, exact=True).click()
    page.wait_for_url(f"{base}/network/units/{net.station.pk}/")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text(net.station.name)
    expect(page.locator("#staff")).to_contain_text("站管理员")
    expect(page.locator("#children")).to_contain_text(net.point.name)
    shot(page, "unit")

    # 长辈模式: on, then kept across pages and reloads.
    body = page.locator("body")
    expect(body).not_to_have_class(re.compile(r"\belderly\b"))
    # In the visible bar at every width: no need to open the ☰ menu.
    expect(page.locator("#elderly-toggle")).to_be_visible()
    page.click("#elderly-toggle")
    page.wait_for_load_state()
    expect(body).to_have_class(re.compile(r"\belderly\b"))
    expect(page.locator("#elderly-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("h1")).to_have_text(net.station.name)  # back on the same page
    # Link buttons keep their own colours (white on the brand red), not the link blue.
    add_staff = page.locator("#staff a.btn-brand")
    expect(add_staff).to_have_css("color", "rgb(255, 255, 255)")
    shot(page, "unit-elderly")

    page.locator(".breadcrumb").get_by_role("link", name="实践网络").click()
    page.wait_for_url(base + "/network/")
    page.wait_for_load_state()
    expect(body).to_have_class(re.compile(r"\belderly\b"))
    page.reload()
    page.wait_for_load_state()
    expect(body).to_have_class(re.compile(r"\belderly\b"))
    shot(page, "tree-elderly")

    # 操作记录: the admin's own login is there. (The elderly mode hides the secondary
    # menu entries, so go by address.)
    page.goto(base + "/audit/")
    expect(page.locator("h1")).to_have_text("操作记录")
    expect(body).to_have_class(re.compile(r"\belderly\b"))
    own_login = (
        page.locator("#audit-table tbody tr").filter(has_text="县管理员").filter(has_text="登录")
    )
    expect(own_login).to_have_count(1)
    shot(page, "audit")


def test_station_admin_sees_only_their_station(live_server, cast, net, new_page, shot, width):
    base = live_server.url
    page = new_page(width)
    log_in(page, base, cast.station_admin.phone, shot)
    expect(page.locator("h1")).to_contain_text("站管理员")

    open_nav(page)
    page.click("#nav-manage")  # staff pages sit in the 管理 menu
    page.locator("#nav").get_by_role("link", name="实践网络", exact=True).click()
    page.wait_for_url(base + "/network/")
    page.wait_for_load_state()
    links = page.locator("#unit-tree a")
    expect(links).to_have_text([net.station.name, net.point.name])
    tree = page.locator("#unit-tree")
    for hidden in (net.center, net.institute, net.station2, net.other_institute):
        expect(tree).not_to_contain_text(hidden.name)
    shot(page, "tree")


def test_english_switch(live_server, cast, new_page, shot, width):
    base = live_server.url
    page = new_page(width)
    page.goto(base + "/accounts/login/")
    expect(page.locator("h1")).to_have_text("登录")

    open_nav(page)
    page.get_by_role("button", name="English").click()
    page.wait_for_url(base + "/accounts/login/")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")
    expect(page.locator("label[for=id_phone]")).to_contain_text("Mobile number")
    expect(page.locator("main")).to_contain_text("If you forgot your password")
    shot(page, "login-en")

    page.fill("#id_phone", cast.county_admin.phone)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].btn-brand")
    page.wait_for_url(base + "/")
    page.wait_for_load_state()
    expect(page).to_have_title("Dashboard")
    expect(page.locator("h1")).to_have_text("Hello, 县管理员")
    expect(page.locator("main")).to_contain_text("Open the unit tree")
    expect(page.locator("#elderly-toggle")).to_contain_text("Elderly mode (large text)")
    shot(page, "home-en")
