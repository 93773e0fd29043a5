"""QR check-in in headless Chromium: the organiser opens the check-in screen; a
volunteer on a 375 px phone opens the QR code's URL, logs in, allows location (the
activity is geofenced) and is checked in; the organiser checks them out by hand and
confirms the record on the roster; the volunteer sees it in 我的服务记录."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import CHROMIUM_ARGS, WIDTHS  # noqa: F401
from tests.browser.test_journeys import log_in
from tests.conftest import PASSWORD
from tests.records.helpers import activity, signed_up_volunteer
from wenming.records.models import Attendance, RecordStatus, ServiceRecord

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect

LAT, LNG = Decimal("34.442000"), Decimal("117.453000")


def phone_page(browser: Any) -> Any:
    """A 375 px phone standing about 50 m from the activity, location allowed."""
    context = browser.new_context(
        viewport={"width": 375, "height": 740},
        geolocation={"latitude": float(LAT) + 0.00045, "longitude": float(LNG)},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def test_qr_check_in_journey(live_server, cast, net, browser, new_page, shot, width):
    base = live_server.url
    now = timezone.now()
    act = activity(
        cast.county_admin,
        net.station,
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2),
        latitude=LAT,
        longitude=LNG,
    )
    vol = signed_up_volunteer(cast.county_admin, act, 1)

    organiser = new_page(width)
    log_in(organiser, base, cast.station_admin.phone, shot)
    organiser.goto(f"{base}/checkin/{act.pk}/screen/")
    expect(organiser.locator("#qr-box svg")).to_be_visible()
    expect(organiser.locator("#count-in")).to_have_text("0")
    scan_url = organiser.locator("#qr-box").get_attribute("data-scan-url")
    assert scan_url and f"/checkin/{act.pk}/?t=" in scan_url
    shot(organiser, "screen")

    phone = phone_page(browser)
    phone.goto(scan_url)
    phone.wait_for_url("**/accounts/login/**")
    phone.fill("#id_phone", vol.phone)
    phone.fill("#id_password", PASSWORD)
    phone.click("button[type=submit].btn-brand")
    phone.wait_for_url(f"**/checkin/{act.pk}/?t=p*")
    expect(phone.locator("#scan-button")).to_have_text("签到")
    box = phone.locator("#scan-button").bounding_box()
    assert box is not None and box["width"] > 300  # one big button across the phone
    shot(phone, "landing")
    phone.locator("#scan-button").click()
    phone.wait_for_load_state()
    expect(phone.locator(".alert-success")).to_contain_text("签到成功")
    # A double tap lands where 签到 was: no check-out button is there any more.
    phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.wait_for_load_state()
    assert Attendance.objects.get().checked_out_at is None
    # Checking out is a separate, confirmed step further down.
    if not phone.locator("#scan-button").is_visible():
        phone.click("#checkout-open")
    expect(phone.locator("#scan-button")).to_have_text("确认签退")
    expect(phone.locator("#scan-form")).to_contain_text("确定现在签退吗")
    attendance = Attendance.objects.get()
    assert attendance.check_in_distance_m == 50
    shot(phone, "checked-in")

    # The screen's counts follow (the htmx poll; fetched here without waiting 30 s).
    organiser.reload()
    expect(organiser.locator("#count-in")).to_have_text("1")
    organiser.select_option("#manual-action", "out")
    organiser.fill("#manual-reason", "志愿者提前离开，现场代签退")
    organiser.click("#manual-submit")
    organiser.wait_for_load_state()
    expect(organiser.locator(".alert-success")).to_contain_text("已记录")
    expect(organiser.locator("#count-out")).to_have_text("1")
    organiser.click("#to-records")
    organiser.wait_for_url(f"**/records/activity/{act.pk}/")
    expect(organiser.locator("#records-table")).to_contain_text("待确认")
    shot(organiser, "roster")
    organiser.click("#confirm-selected")
    organiser.wait_for_load_state()
    expect(organiser.locator(".alert-success")).to_contain_text("已确认 1 条服务记录")
    assert ServiceRecord.objects.get().status == RecordStatus.CONFIRMED
    shot(organiser, "confirmed")

    phone.goto(f"{base}/records/mine/")
    expect(phone.locator("#my-records")).to_contain_text(act.title)
    expect(phone.locator("#my-records")).to_contain_text("已确认")
    shot(phone, "mine")
    phone.context.close()
