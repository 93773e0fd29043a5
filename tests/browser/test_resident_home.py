"""A resident on a cheap phone: the home page leads to ordering and to 我的点单, the
order form comes filled in and reports every problem at once, and elderly mode is
switched on from the visible bar without opening the ☰ menu."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.test_journeys import log_in
from tests.conftest import make_user
from tests.demands.helpers import menu_item
from wenming.core.roles import Role
from wenming.demands.models import Order

pytestmark = pytest.mark.browser

if os.environ.get("CI") == "true":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def test_resident_orders_and_follows_it_from_the_home_page(live_server, cast, net, new_page, shot):
    base = live_server.url
    item = menu_item(cast.county_admin, net.station)
    make_user("13700000001", "陈大爷", Role.RESIDENT, "320305005204")
    page = new_page(375)
    log_in(page, base, "13700000001", shot)

    # Elderly mode from the bar itself, the menu closed.
    toggle = page.locator("#elderly-toggle")
    expect(toggle).to_be_visible()
    expect(page.locator("#nav")).not_to_have_class(re.compile(r"\bshow\b"))
    toggle.click()
    page.wait_for_load_state()
    expect(page.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    bar = page.locator(".navbar-brand").bounding_box()
    burger = page.locator(".navbar-toggler").bounding_box()
    assert bar and burger and abs(burger["y"] - bar["y"]) < 20  # one row at 375 px
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(page.locator("#action-order")).to_be_visible()
    expect(page.locator("#action-my_orders")).to_be_visible()
    shot(page, "home-elderly")

    page.click("#action-order")
    page.wait_for_url(base + "/demands/")
    page.goto(f"{base}/demands/order/?item={item.code}")
    expect(page.locator("#id_name")).to_have_value("陈大爷")
    expect(page.locator("#id_phone")).to_have_value("13700000001")
    # Clear two fields: both problems come back in one answer.
    page.fill("#id_name", "")
    page.fill("#id_phone", "123")
    page.click("#order-submit")
    page.wait_for_load_state()
    expect(page.get_by_text("请填写您的姓名。")).to_be_visible()
    expect(page.get_by_text("手机号码格式不正确。")).to_be_visible()
    shot(page, "order-errors")
    page.fill("#id_name", "陈大爷")
    page.fill("#id_phone", "13700000001")
    page.click("#order-submit")
    page.wait_for_url(re.compile(r"/demands/o/"))
    order = Order.objects.get()

    page.goto(base + "/")
    page.click("#action-my_orders")
    page.wait_for_url(base + "/demands/mine/")
    page.click(f"#my-order-{order.number}")
    page.wait_for_url(f"{base}/demands/mine/{order.number}/")
    expect(page.locator("#order-number")).to_have_text(order.number)
    page.click("#remind")
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_contain_text("已催单")
    order.refresh_from_db()
    assert order.reminder_count == 1
    shot(page, "my-order")
