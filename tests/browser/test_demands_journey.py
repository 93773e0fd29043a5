"""Issue 5 in one journey, in headless Chromium: a resident without an account orders
上门理发 on a 375 px phone and lands on the private page; the county center (1280 px)
accepts and dispatches it to the suggested team; the team leader (375 px) accepts and
completes it with the volunteer who took part; the resident rates it through the
private link. Everything is clicks."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.browser.test_journeys import log_in
from tests.demands.helpers import menu_item, team_with_leader
from wenming.demands.models import Order, OrderState
from wenming.records.models import RecordStatus, ServiceRecord

pytestmark = [pytest.mark.browser]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_order_dispatch_accept_complete_rate(live_server, cast, net, new_page, shot):
    base = live_server.url
    item = menu_item(cast.station_admin, net.station)
    team, leader = team_with_leader(cast.station_admin, net.station, 1, "马庄文艺队")
    item.teams.add(team)

    # A resident on a cheap phone: the village's menu, then the order form.
    phone = new_page(375)
    phone.goto(base + "/demands/")
    phone.select_option("#village", "320305005204")
    phone.click("#village-form button")
    expect(phone.locator(".menu-item h3")).to_contain_text(["上门理发"])
    _no_horizontal_scroll(phone)
    shot(phone, "resident-menu")
    phone.click(".menu-item a")
    phone.fill("#id_name", "王大爷")
    phone.fill("#id_phone", "139 1234 5678")
    phone.fill("#id_address", "马庄村三组 12 号")
    phone.fill("#id_preferred_time", "周六上午")
    _no_horizontal_scroll(phone)
    shot(phone, "resident-form")
    phone.click("#order-submit")
    expect(phone.locator("#order-state")).to_have_text("待审核")
    private_url = phone.url
    order = Order.objects.get()
    assert re.search(rf"/demands/o/{order.number}/[-_A-Za-z0-9]{{43}}/$", private_url)
    expect(phone.locator("#order-number")).to_have_text(order.number)
    _no_horizontal_scroll(phone)
    shot(phone, "resident-private-page")

    # The county center accepts and dispatches to the suggested team.
    desk = new_page(1280)
    log_in(desk, base, cast.county_admin.phone, shot)
    desk.click("#nav-demands-manage")
    desk.click("#orders-table a:has-text('上门理发')")
    desk.click("#do-accept")
    expect(desk.locator("#order-state")).to_have_text("待派单")
    first = desk.locator("#candidates tbody tr").first
    expect(first).to_contain_text("马庄文艺队")
    expect(first).to_contain_text("距离 40")
    shot(desk, "center-candidates")
    desk.click("#do-dispatch")
    expect(desk.locator("#order-state")).to_have_text("已派单")

    # The team leader accepts and completes it on a phone.
    lead = new_page(375)
    log_in(lead, base, leader.phone, shot)
    lead.goto(base + "/demands/tasks/")
    card = lead.locator(f"#tasks-dispatched [data-order='{order.number}']")
    card.locator("a").click()
    lead.click("#do-take")
    lead.goto(base + f"/demands/manage/{order.pk}/")
    expect(lead.locator("#order-state")).to_have_text("服务中")
    lead.fill("#complete-note", "已上门理发，老人很满意。")
    _no_horizontal_scroll(lead)
    shot(lead, "leader-complete")
    lead.click("#do-complete")
    expect(lead.locator("#order-state")).to_have_text("待评价")

    # The resident rates it through the private link.
    phone.goto(private_url)
    expect(phone.locator("#order-state")).to_have_text("待评价")
    phone.click("label[for=star4]")
    phone.fill("#rate-form textarea", "很好，谢谢志愿者")
    shot(phone, "resident-rate")
    phone.click("#rate-submit")
    expect(phone.locator("#order-state")).to_have_text("已评价")
    shot(phone, "resident-rated")

    order.refresh_from_db()
    assert (order.state, order.rating, order.assigned_team_id) == (OrderState.RATED, 4, team.pk)
    record = ServiceRecord.objects.get(order=order)
    assert (record.status, record.minutes) == (RecordStatus.PENDING, 60)
    actions = list(order.events.values_list("action", flat=True))
    assert actions == ["submit", "accept", "dispatch", "take", "complete", "rate"]
