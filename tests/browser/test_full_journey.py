"""The whole of issue 4 in one journey, in headless Chromium: a station admin publishes
an activity at desktop width (1280 px); a volunteer on a 375 px phone finds it and signs
up; when it starts the organiser opens the check-in screen and the volunteer opens the
QR code's URL and is checked in; the organiser checks them out and confirms the record
and adds a photo; the volunteer asks for a certificate, staff issue it, and the
volunteer downloads the PDF, whose text carries the certificate number.

Only the clock is moved (time-machine, for the server process: Django and the live
server thread), where a real wait would be needed: to the activity's start, and to an
hour and a half later for the check-out. Everything else is clicks."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from tests.activities.helpers import volunteer_user
from tests.browser.test_journeys import log_in, open_nav
from wenming.activities.models import Activity, ActivityPhoto, ActivityState, SignUp
from wenming.certificates.models import Certificate
from wenming.records.models import Attendance, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer

pytestmark = [pytest.mark.browser]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect

TITLE = "马庄村敬老院包饺子"


def _no_horizontal_scroll(page: Any) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (180, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def test_publish_sign_up_check_in_confirm_certify(
    live_server, cast, net, new_page, shot, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    user = volunteer_user(cast.county_admin, 1)
    volunteer = Volunteer.objects.get(user=user)
    # Starts in 20 minutes (sign-up closes at the start), runs two hours.
    start = (timezone.localtime() + dt.timedelta(minutes=20)).replace(second=0, microsecond=0)
    end = start + dt.timedelta(hours=2)

    with time_machine.travel(timezone.now(), tick=True) as clock:
        # 1. The station admin publishes the activity, at a desk.
        desk = new_page(1280)
        log_in(desk, base, cast.station_admin.phone, shot)
        desk.goto(base + "/activities/manage/")
        desk.click("#activity-create")
        desk.fill("#id_title", TITLE)
        desk.select_option("#id_work_item", "values")
        desk.select_option("#id_unit", str(net.station.pk))
        desk.fill("#id_venue", "马庄村敬老院")
        desk.fill("#id_starts_at", start.strftime("%Y-%m-%dT%H:%M"))
        desk.fill("#id_ends_at", end.strftime("%Y-%m-%dT%H:%M"))
        desk.fill("#id_quota", "10")
        desk.fill("#id_description", "和老人一起包饺子、聊天。")
        shot(desk, "activity-form")
        desk.click("#activity-form button[type=submit]")
        desk.wait_for_load_state()
        expect(desk.locator("#activity-state")).to_have_text("草稿")
        desk.click("#do-publish")
        desk.wait_for_load_state()
        expect(desk.locator("#activity-state")).to_have_text("报名中")
        shot(desk, "published")
        activity = Activity.objects.get(title=TITLE)
        assert activity.state == ActivityState.PUBLISHED

        # 2. The volunteer finds it on a phone and signs up.
        phone = new_page(375)
        log_in(phone, base, user.phone, shot)
        open_nav(phone)
        phone.click("#nav-activities")
        phone.wait_for_load_state()
        phone.get_by_role("link", name=TITLE).click()
        phone.wait_for_load_state()
        phone.click("#signup-button")
        phone.wait_for_load_state()
        expect(phone.locator("#my-signup-state")).to_contain_text("您已报名")
        _no_horizontal_scroll(phone)
        shot(phone, "signed-up")
        assert SignUp.objects.get(activity=activity).volunteer == volunteer

        # 3. The clock reaches the start (a real 20-minute wait): the organiser starts
        # the activity and opens the check-in screen; the volunteer scans the QR code.
        clock.move_to(start + dt.timedelta(minutes=1))
        desk.goto(f"{base}/activities/{activity.pk}/")
        desk.click("#do-start")
        desk.wait_for_load_state()
        expect(desk.locator("#activity-state")).to_have_text("进行中")
        desk.click("#activity-checkin-screen")
        desk.wait_for_url(f"**/checkin/{activity.pk}/screen/")
        expect(desk.locator("#qr-box svg")).to_be_visible()
        expect(desk.locator("#count-in")).to_have_text("0")
        scan_url = desk.locator("#qr-box").get_attribute("data-scan-url")
        assert scan_url and f"/checkin/{activity.pk}/?t=" in scan_url
        shot(desk, "checkin-screen")

        phone.goto(scan_url)
        expect(phone.locator("#scan-button")).to_have_text("签到")
        _no_horizontal_scroll(phone)
        shot(phone, "scan-landing")
        phone.click("#scan-button")
        phone.wait_for_load_state()
        expect(phone.locator(".alert-success")).to_contain_text("签到成功")
        expect(phone.locator("#checkout-open")).to_have_text("我要签退…")
        shot(phone, "checked-in")
        attendance = Attendance.objects.get(activity=activity)
        assert attendance.volunteer == volunteer

        # 4. An hour and a half later (a real wait), the organiser checks the volunteer
        # out by hand and confirms the service record.
        clock.move_to(attendance.checked_in_at + dt.timedelta(minutes=90))
        desk.reload()
        expect(desk.locator("#count-in")).to_have_text("1")
        desk.select_option("#manual-volunteer", str(volunteer.pk))
        desk.select_option("#manual-action", "out")
        desk.fill("#manual-reason", "活动结束，现场统一签退")
        desk.click("#manual-submit")
        desk.wait_for_load_state()
        expect(desk.locator(".alert-success")).to_contain_text("已记录")
        expect(desk.locator("#count-out")).to_have_text("1")
        desk.click("#to-records")
        desk.wait_for_url(f"**/records/activity/{activity.pk}/")
        expect(desk.locator("#records-table")).to_contain_text("待确认")
        desk.click("#confirm-selected")
        desk.wait_for_load_state()
        expect(desk.locator(".alert-success")).to_contain_text("已确认 1 条服务记录")
        shot(desk, "record-confirmed")
        service = ServiceRecord.objects.get(activity=activity)
        assert (service.status, service.minutes) == (RecordStatus.CONFIRMED, 90)

        # The organiser adds a photo of the day to the activity page.
        desk.goto(f"{base}/activities/{activity.pk}/")
        photo = tmp_path / "jiaozi.jpg"
        photo.write_bytes(_jpeg())
        desk.set_input_files("#id_image", str(photo))
        desk.fill("#id_caption", "大家一起包饺子")
        desk.click("#photo-submit")
        desk.wait_for_load_state()
        expect(desk.locator("#photo-grid img")).to_have_count(1)
        shot(desk, "photo")
        assert ActivityPhoto.objects.get(activity=activity).width == 1200

        # The volunteer sees it on the activity page (the photo streams to anyone, as
        # the activity is public), without the page scrolling sideways.
        phone.goto(f"{base}/activities/{activity.pk}/")
        expect(phone.locator("#photo-grid img")).to_have_count(1)
        phone.locator("#photo-grid img").scroll_into_view_if_needed()  # it loads lazily
        phone.wait_for_function("document.querySelector('#photo-grid img').naturalWidth > 0")
        expect(phone.locator("#photo-upload")).to_have_count(0)
        _no_horizontal_scroll(phone)
        shot(phone, "photo-on-phone")

        phone.goto(f"{base}/records/mine/")
        expect(phone.locator("#my-records")).to_contain_text(TITLE)
        expect(phone.locator("#my-records")).to_contain_text("已确认")
        shot(phone, "my-records")

        # 5. The volunteer asks for a certificate; the station admin issues it.
        phone.goto(base + "/certificates/mine/")
        expect(phone.locator("#id_unit")).to_have_value(str(net.station.pk))
        phone.fill("#id_period_start", f"{start:%Y}-01-01")
        phone.fill("#id_note", "评优材料")
        _no_horizontal_scroll(phone)
        phone.click("#request-submit")
        phone.wait_for_url(base + "/certificates/mine/")
        expect(phone.locator("#my-requests")).to_contain_text("待出具")
        shot(phone, "certificate-requested")

        desk.goto(base + "/certificates/")
        queue = desk.locator("#request-queue")
        expect(queue).to_contain_text(volunteer.name)
        queue.locator("button.issue").first.click()
        desk.wait_for_url(base + "/certificates/*/")
        cert = Certificate.objects.get()
        expect(desk.locator("#cert-number")).to_have_text(cert.number)
        shot(desk, "certificate-issued")

        # 6. The volunteer downloads the PDF on the phone.
        phone.reload()
        item = phone.locator(f"#certificate-{cert.pk}")
        expect(item).to_contain_text(cert.number)
        expect(item).to_contain_text("1.5")
        shot(phone, "my-certificate")
        with phone.expect_download() as info:
            item.locator("a.download").click()
        pdf = tmp_path / info.value.suggested_filename
        info.value.save_as(pdf)

    assert pdf.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftotext"):  # pragma: no cover
        pytest.skip("pdftotext missing (apt-get install poppler-utils)")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True
    ).stdout.decode()
    assert cert.number in text
    assert volunteer.name in text
