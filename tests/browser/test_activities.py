"""Activities in headless Chromium: a station admin creates and publishes an activity at
desktop width; a volunteer on a 375 px phone finds it under 志愿活动, signs up, and
cancels (confirming the dialog)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from tests.activities.helpers import volunteer_user
from tests.browser.test_journeys import log_in, open_nav
from wenming.activities.models import Activity, ActivityState, SignUp, SignUpState

pytestmark = [pytest.mark.browser]

if os.environ.get("CI") == "true":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def test_publish_then_sign_up_on_a_phone(live_server, cast, net, new_page, shot):
    base = live_server.url
    volunteer = volunteer_user(cast.county_admin, 1)

    page = new_page(1280)
    log_in(page, base, cast.station_admin.phone, shot)
    page.goto(base + "/activities/manage/")
    page.click("#activity-create")
    start = timezone.localtime() + dt.timedelta(days=2)
    page.fill("#id_title", "关爱空巢老人")
    page.select_option("#id_work_item", "values")
    page.select_option("#id_unit", str(net.station.pk))
    page.fill("#id_venue", "马庄村养老院")
    page.fill("#id_starts_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_ends_at", (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_quota", "5")
    page.fill("#id_description", "陪老人聊天、打扫卫生。")
    shot(page, "form")
    page.click("#activity-form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#activity-state")).to_have_text("草稿")
    page.click("#do-publish")
    page.wait_for_load_state()
    expect(page.locator("#activity-state")).to_have_text("报名中")
    shot(page, "published")
    activity = Activity.objects.get(title="关爱空巢老人")
    assert activity.state == ActivityState.PUBLISHED

    phone = new_page(375)
    log_in(phone, base, volunteer.phone, shot)
    open_nav(phone)
    phone.click("#nav-activities")
    phone.wait_for_load_state()
    phone.get_by_role("link", name="关爱空巢老人").click()
    phone.wait_for_load_state()
    shot(phone, "detail")
    phone.click("#signup-button")
    phone.wait_for_load_state()
    expect(phone.locator("#my-signup-state")).to_contain_text("您已报名")
    expect(phone.locator("#activity-places")).to_contain_text("1 / 5")
    # Nothing overflows the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    shot(phone, "signed-up")
    assert SignUp.objects.get(activity=activity).state == SignUpState.SIGNED_UP

    phone.once("dialog", lambda dialog: dialog.accept())
    phone.click("#signup-cancel")
    phone.wait_for_load_state()
    expect(phone.locator("#signup-button")).to_be_visible()
    assert SignUp.objects.get(activity=activity).state == SignUpState.CANCELLED
    shot(phone, "cancelled")


def test_calendar_card_on_a_phone(live_server, cast, net, new_page, shot):
    from icalendar import Calendar

    from tests.activities.helpers import published
    from wenming.activities import services

    base = live_server.url
    volunteer = volunteer_user(cast.county_admin, 1)
    activity = published(cast.station_admin, net.station, title="关爱空巢老人")
    services.signup_create(actor=volunteer, activity=activity)

    phone = new_page(375)
    log_in(phone, base, volunteer.phone, shot)
    phone.goto(base + "/volunteers/me/")
    phone.click("#calendar-open")
    phone.wait_for_load_state()
    url = phone.input_value("#calendar-url")
    assert url.startswith(base + "/activities/calendar/me/") and url.endswith(".ics")
    webcal = phone.get_attribute("#calendar-subscribe", "href")
    assert webcal == "webcal://" + url.split("://", 1)[1]
    phone.click("#calendar-copy")
    expect(phone.locator("#calendar-copy")).to_have_text("已复制")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.locator("#my-calendar").scroll_into_view_if_needed()
    shot(phone, "calendar-card")

    feed = phone.request.get(url)
    assert feed.status == 200
    events = Calendar.from_ical(feed.body()).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["关爱空巢老人"]

    phone.once("dialog", lambda dialog: dialog.accept())
    phone.click("#calendar-reset")
    phone.wait_for_load_state()
    new_url = phone.input_value("#calendar-url")
    assert new_url != url
    assert phone.request.get(url).status == 404
    assert phone.request.get(new_url).status == 200
