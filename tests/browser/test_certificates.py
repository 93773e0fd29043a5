"""The certificate journey in headless Chromium: the volunteer asks for a certificate on
a phone (375 px) or a desktop, the station admin issues it from the queue, the volunteer
downloads the PDF (a real download: its content type, and pdftotext finds the number),
and the public verification page says it is valid."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest

from tests.browser.conftest import WIDTHS
from tests.browser.test_journeys import log_in
from tests.certificates.helpers import record, volunteer_with_login
from wenming.certificates.models import Certificate

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_request_issue_download_verify(live_server, cast, net, new_page, shot, width, tmp_path):
    base = live_server.url
    user, volunteer = volunteer_with_login(cast.county_admin, 1)
    record(volunteer, net.station, 180, content="马庄村环境整治")
    record(volunteer, net.station, 90, content="敬老院包饺子")

    # The volunteer asks, on a phone.
    phone = new_page(width)
    log_in(phone, base, user.phone, shot)
    phone.goto(base + "/certificates/mine/")
    expect(phone.locator("h1")).to_have_text("我的证明")
    expect(phone.locator("#id_unit")).to_have_value(str(net.station.pk))
    phone.fill("#id_period_start", "2026-01-01")
    phone.fill("#id_note", "升学材料")
    _no_horizontal_scroll(phone)
    shot(phone, "request-form")
    phone.click("#request-submit")
    phone.wait_for_url(base + "/certificates/mine/")
    expect(phone.locator("#my-requests")).to_contain_text("待出具")
    shot(phone, "requested")

    # The station admin issues it from the queue (on a desktop).
    desk = new_page(1280)
    log_in(desk, base, cast.station_admin.phone, shot)
    desk.goto(base + "/certificates/")
    queue = desk.locator("#request-queue")
    expect(queue).to_contain_text(volunteer.name)
    shot(desk, "queue")
    queue.locator("button.issue").first.click()
    desk.wait_for_url(base + "/certificates/*/")
    cert = Certificate.objects.get()
    expect(desk.locator("#cert-number")).to_have_text(cert.number)
    expect(desk.locator("#cert-status")).to_have_text("有效")
    shot(desk, "issued")

    # The volunteer downloads the certificate.
    phone.reload()
    item = phone.locator(f"#certificate-{cert.pk}")
    expect(item).to_contain_text(cert.number)
    expect(item).to_contain_text("4.5")
    _no_horizontal_scroll(phone)
    shot(phone, "mine-with-certificate")
    with phone.expect_download() as info:
        item.locator("a.download").click()
    download = info.value
    assert download.suggested_filename == f"certificate-{cert.number}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    response = phone.request.get(base + f"/certificates/{cert.pk}/pdf/")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
        ).stdout.decode()
        assert cert.number in text
    else:  # pragma: no cover
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")

    # Anyone can check it, without logging in, and sees masked data only.
    public = new_page(width)
    public.goto(base + f"/verify/{cert.number}/")
    expect(public.locator("#verdict")).to_have_attribute("data-verdict", "valid")
    expect(public.locator("#verify-fields")).not_to_contain_text(volunteer.name)
    _no_horizontal_scroll(public)
    shot(public, "verify")
