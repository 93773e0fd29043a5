"""The practice fund in a browser: the fund manager books a donation on a phone, the
public disclosure shows it to anyone (the donor named because they agreed), and the
downloaded ledger checks against the signed checkpoint with the standalone script."""

from __future__ import annotations

import os

import pytest

from tests.browser.test_journeys import log_in
from tests.conftest import make_user
from tests.fund.test_checkpoints import _script
from wenming.core import checkpoints
from wenming.core.roles import Role
from wenming.fund import services
from wenming.fund.models import Donation, FundEntry

pytestmark = pytest.mark.browser

if os.environ.get("CI") == "true":
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def test_a_donation_reaches_the_public_ledger_and_checks(live_server, net, new_page, shot,
                                                          tmp_path):  # fmt: skip
    base = live_server.url
    manager = make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", net.center)
    fund = services.fund_create(actor=manager, unit_id=net.center.pk, name="贾汪区文明实践基金")
    page = new_page(375)
    log_in(page, base, "13600000001", shot)
    page.goto(f"{base}/fund/{fund.pk}/")
    page.click("#donation-card summary")
    page.fill("#id_amount", "1500.50")
    page.select_option("#id_donor_kind", "enterprise")
    page.fill("#id_donor_name", "徐州爱心企业")
    page.check("#id_publish_name")
    page.click("#donation-form button[type=submit]")
    page.wait_for_load_state()
    errors = page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
    assert not errors, errors
    expect(page.locator("#donations")).to_contain_text("徐州爱心企业")
    expect(page.locator("#fund-totals")).to_contain_text("1,500.50")
    assert Donation.objects.get().amount == 150050
    shot(page, "fund-booked")

    checkpoints.checkpoint(FundEntry, fund.chain)  # the daily task's job
    public = new_page(375)  # a visitor, not logged in
    public.goto(f"{base}/fund/public/{fund.pk}/")
    expect(public.locator("#entries")).to_contain_text("徐州爱心企业")
    expect(public.locator("#checkpoint")).to_be_visible()
    assert public.evaluate("document.documentElement.scrollWidth") <= 375
    shot(public, "fund-public")
    with public.expect_download() as download:
        public.click("#ledger-csv")
    path = tmp_path / "ledger.csv"
    download.value.save_as(path)
    ok, message = _script().verify(str(path), public.locator("#public-key").inner_text())
    assert ok, message
