"""The household register in headless Chromium: a contact person on a phone (and on a
desktop) goes from 我的 to 我的包挂户, opens the overdue event, logs a phone call that
closes it, and sees it closed on the event page."""

from __future__ import annotations

import os
import re

import pytest

from tests.browser.conftest import WIDTHS
from tests.browser.test_teams import log_in, open_nav
from tests.households.helpers import contact, household
from wenming.households import services
from wenming.households.models import CareTag, EventState, HouseholdEvent

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def tags(db) -> None:
    """The live server's database is flushed between tests, the seeded tags with it."""
    for sort, (code, name) in enumerate([("empty_nest", "空巢老人"), ("veteran", "退役军人")]):
        CareTag.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


def test_contact_person_logs_a_visit_that_closes_an_event(
    live_server, tags, cast, new_page, shot, width
):
    base = live_server.url
    h = household(cast.station_admin, 1, tags=("empty_nest",))
    c = contact(cast.county_admin)
    services.assignment_create(actor=cast.station_admin, household=h, contact=c, kind="group")
    event = services.event_report(
        actor=cast.station_admin, household=h, kind="illness", summary="老人发烧，需要买药"
    )

    page = new_page(width)
    log_in(page, base, c.user.phone)
    open_nav(page)
    page.click("#nav a[href='/volunteers/me/']")
    shot(page, "me")
    page.click("#my-households-link")
    expect(page.locator(f"#mine-{h.pk}")).to_contain_text("老人发烧")
    shot(page, "mine")
    page.click(f"#mine-{h.pk} a.alert")
    expect(page.locator("#event-title")).to_contain_text("病事")
    page.click("#event-visit")
    expect(page.locator("#id_event")).to_have_value(str(event.pk))
    page.click("label[for=id_channel_1]")  # 电话联系
    page.fill("#id_notes", "电话询问，已代买退烧药送到家")
    page.check("#id_close")
    expect(page.locator("#outcome-wrap")).to_be_visible()
    page.fill("#id_outcome", "已退烧，药已送到")
    shot(page, "visit-form")
    page.click("#visit-submit")
    page.wait_for_url(re.compile(rf".*/households/events/{event.pk}/$"))
    expect(page.locator("#event-state")).to_contain_text("已办结")
    expect(page.locator("#timeline")).to_contain_text("电话询问，已代买退烧药送到家")
    shot(page, "closed")
    event.refresh_from_db()
    assert event.state == EventState.CLOSED and event.outcome == "已退烧，药已送到"
    assert HouseholdEvent.objects.get().visits.get().channel == "phone"
    width_ok = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert width_ok  # nothing wider than the phone
