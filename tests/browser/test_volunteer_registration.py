"""Self-registration in headless Chromium: phone width first, then desktop. Fill the
form, choose a town (htmx loads its villages) and a village, submit, see the number."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from stdnum.cn import ric

from tests.browser.conftest import WIDTHS
from wenming.notifications.models import OutboxMessage
from wenming.volunteers.models import Skill, Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def _id_number() -> str:
    base = "320305" + "19900101" + "123"
    return base + ric.calc_check_digit(base + "0")


@pytest.fixture
def skills(db) -> None:
    """The live server's database is flushed between tests, seeded skills with it."""
    for sort, name in enumerate(["理论宣讲", "文艺演出", "医疗卫生", "助老助残", "环境保护"]):
        Skill.objects.get_or_create(name=name, defaults={"sort": sort})


def _fill(page: Any, net: Any) -> None:
    page.fill("#id_name", "王小明")
    page.fill("#id_phone", "13812345678")
    # The phone is proven by a text message: the code is read from the SMS outbox.
    page.click("#send-code")
    expect(page.locator("#code-status")).to_contain_text("验证码已发送到 138****5678")
    text = OutboxMessage.objects.get(verb="phone.code").text
    page.fill("#id_code", re.search(r"验证码是 ([0-9]{6})", text).group(1))
    page.fill("#id_id_number", _id_number())
    page.select_option("#id_town", net.town.code)
    # htmx replaces the village options with the town's villages.
    expect(page.locator(f"#id_village option[value='{net.village.code}']")).to_have_count(1)
    page.select_option("#id_village", net.village.code)
    page.get_by_label("助老助残").check()
    page.get_by_label("周末白天").check()
    page.fill("#id_password", "Xin-mima-2026")
    page.get_by_label("我已阅读并同意上述个人信息保护说明").check()


def test_self_registration(live_server, net, skills, new_page, shot, width):
    base = live_server.url
    page = new_page(width)
    page.goto(base + "/")
    page.locator("#register-link").click()
    page.wait_for_url(base + "/volunteers/register/")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("志愿者注册")

    # 出生日期 and 性别 only for documents other than the mainland ID card.
    expect(page.locator("#id_birth_date")).to_be_hidden()
    page.select_option("#id_id_type", "passport")
    expect(page.locator("#id_birth_date")).to_be_visible()
    expect(page.locator("#id_gender")).to_be_visible()
    page.select_option("#id_id_type", "ric")
    expect(page.locator("#id_birth_date")).to_be_hidden()
    shot(page, "form")

    # A refusal keeps what was typed and says what to fix, on the field.
    _fill(page, net)
    page.get_by_label("我已阅读并同意上述个人信息保护说明").uncheck()
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_load_state()
    expect(page.locator("#field-consent .invalid-feedback")).to_contain_text("请阅读并同意隐私声明")
    expect(page.locator("#id_name")).to_have_value("王小明")
    expect(page.locator("#id_village")).to_have_value(net.village.code)
    assert Volunteer.objects.count() == 0
    shot(page, "refused")

    page.fill("#id_password", "Xin-mima-2026")  # password fields are not re-filled
    page.get_by_label("我已阅读并同意上述个人信息保护说明").check()
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_url(base + "/volunteers/register/done/")
    page.wait_for_load_state()
    volunteer = Volunteer.objects.get()
    expect(page.locator("#volunteer-number")).to_have_text(volunteer.number)
    expect(page.locator("#volunteer-status")).to_have_text("已注册")
    shot(page, "done")

    # Logged in now, with 我的 in the menu.
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        expect(page.locator("#nav")).to_have_class(re.compile(r"\bshow\b"))
    page.locator("#nav").get_by_role("link", name="我的", exact=True).click()
    page.wait_for_url(base + "/volunteers/me/")
    page.wait_for_load_state()
    expect(page.locator("#my-number")).to_have_text(volunteer.number)
    expect(page.locator("#my-profile")).to_contain_text("助老助残")
    shot(page, "me")


def test_registration_in_elderly_mode(live_server, net, skills, new_page, shot, width):
    base = live_server.url
    page = new_page(width)
    page.goto(base + "/volunteers/register/")
    # The switch is in the visible bar at every width, the ☰ menu closed.
    page.click("#elderly-toggle")
    page.wait_for_load_state()
    expect(page.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    expect(page.locator("h1")).to_have_text("志愿者注册")
    # Touch targets stay large: the checkboxes' rows are at least 44 px high.
    row = page.locator("#field-availability .form-check").first
    box = row.bounding_box()
    assert box is not None and box["height"] >= 44
    shot(page, "elderly")
