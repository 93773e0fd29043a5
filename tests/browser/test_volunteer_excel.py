"""The Excel import in headless Chromium, phone width first, then desktop: upload a
workbook with good and bad rows, read the report, import only the valid rows, confirm,
see the result; and a running job's progress bar."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import WIDTHS
from tests.browser.test_journeys import log_in
from tests.volunteers.test_excel import _good_rows, row, workbook
from wenming.core.jobs import job_create, job_start
from wenming.core.models import Job
from wenming.volunteers import excel
from wenming.volunteers.models import Skill, Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("width", WIDTHS)]

if os.environ.get("CI") == "true":  # under CI a missing Playwright is an error, not a skip
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def skills(db) -> None:
    """The live server's database is flushed between tests, seeded skills with it."""
    for sort, name in enumerate(["理论宣讲", "文艺演出", "医疗卫生", "助老助残", "环境保护"]):
        Skill.objects.get_or_create(name=name, defaults={"sort": sort})


def test_import_valid_rows(live_server, cast, skills, new_page, shot, width, tmp_path):
    base = live_server.url
    page = new_page(width)
    log_in(page, base, cast.county_admin.phone, shot)
    page.goto(base + "/volunteers/excel/import/")
    expect(page.locator("h1")).to_have_text("批量导入志愿者")
    expect(page.locator("#template-link")).to_be_visible()
    shot(page, "import")

    # Not an .xlsx: said on the form.
    bad = tmp_path / "名单.csv"
    bad.write_text("姓名,手机\n")
    page.set_input_files("#id_file", str(bad))
    page.click("#upload-submit")
    page.wait_for_load_state()
    expect(page.locator("#upload-form .invalid-feedback")).to_contain_text("只能上传 Excel 文件")
    shot(page, "not-xlsx")

    rows = _good_rows(3)
    rows.insert(1, row(id_number="320305199001011230", phone="13900000001"))
    rows.append(row(id_number=_good_rows(1, start=700)[0]["id_number"], phone="1390", consent=""))
    book = tmp_path / "志愿者名单.xlsx"
    Path(book).write_bytes(workbook(rows))
    page.set_input_files("#id_file", str(book))
    page.click("#upload-submit")
    page.wait_for_url(f"{base}/volunteers/excel/jobs/*/")
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("检查报告")
    expect(page.locator("#count-valid")).to_have_text("3")
    expect(page.locator("#count-invalid")).to_have_text("2")
    table = page.locator("#report-table")
    expect(table).to_contain_text("身份证号码校验位不正确")
    expect(table).to_contain_text("手机号码格式不正确")
    expect(table).to_contain_text("第二十条")
    shot(page, "report")

    page.click("#import-valid")
    page.wait_for_load_state()
    expect(page.locator("#confirm-summary")).to_have_text("将导入 3 名志愿者。")
    shot(page, "confirm")
    page.click("#confirm-submit")
    page.wait_for_load_state()
    expect(page.locator("#import-result")).to_contain_text("已导入 3 名志愿者")
    assert Volunteer.objects.count() == 3
    shot(page, "result")


def test_progress_bar(live_server, cast, new_page, shot, width):
    base = live_server.url
    job = job_create(actor=cast.county_admin, kind=excel.KIND_CHECK, total=120_000)
    job_start(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(done=45_000)
    page = new_page(width)
    log_in(page, base, cast.county_admin.phone, shot)
    page.goto(f"{base}/volunteers/excel/jobs/{job.pk}/")
    bar = page.locator("#job-progress .progress-bar")
    expect(bar).to_have_text("37%")
    shot(page, "running")
    # htmx polls every second; when the job ends the page turns into its outcome.
    Job.objects.filter(pk=job.pk).update(status="failed", error="文件里没有数据行。")
    expect(page.locator("#job-error")).to_have_text("文件里没有数据行。", timeout=5000)
    shot(page, "failed")
