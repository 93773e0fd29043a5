"""Excel import (all or nothing, with a row report) and the masked, audited export."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.households.helpers import VILLAGE, VILLAGE2, household
from wenming.core import crypto
from wenming.core.models import AuditEvent, Job
from wenming.households import excel
from wenming.households.models import Household, HouseholdMember

pytestmark = pytest.mark.django_db


def workbook(rows: list[list[object]]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(excel.headers())
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "households.xlsx"
    return out


GOOD = [
    [
        VILLAGE,
        "马庄村1组1号",
        "空巢老人",
        "张老汉",
        "13512345678",
        1942,
        "李桂英",
        "配偶",
        1945,
        "",
    ],
    [VILLAGE, "马庄村1组2号", "留守儿童、困难家庭", "王强", "", 1980, "王小宝", "子女", 2016, ""],
]


def test_the_template_downloads(cast, login):
    response = login(cast.station_admin).get("/households/excel/template/")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.worksheets[0].cell(1, 1).value == "村（社区）代码"


def test_a_clean_file_is_imported_with_members_encrypted(cast, login):
    client = login(cast.station_admin)
    response = client.post("/households/excel/import/", {"file": workbook(GOOD)})
    assert response.status_code == 302
    job = Job.objects.get(kind=excel.KIND_IMPORT)
    assert job.status == "succeeded" and job.result["imported"] == 2
    page = client.get(response.url).content.decode()
    assert "已导入 2 户" in page
    h = Household.objects.get(address="马庄村1组1号")
    assert h.head_masked == "张**" and [t.code for t in h.tags.all()] == ["empty_nest"]
    head = HouseholdMember.objects.get(household=h, relation="head")
    assert crypto.decrypt(head.phone_cipher) == "13512345678"
    second = Household.objects.get(address="马庄村1组2号")
    assert sorted(t.code for t in second.tags.all()) == ["hardship", "left_behind_child"]
    assert AuditEvent.objects.filter(verb="household.import").count() == 1


def test_a_file_with_errors_imports_nothing_and_reports_the_rows(cast, login):
    client = login(cast.station_admin)
    bad = [
        *GOOD,
        [VILLAGE2, "唐庄村", "", "赵六", "", None],  # not the station admin's village
        [VILLAGE, "", "外星人", "", "123", "abc"],
    ]
    response = client.post("/households/excel/import/", {"file": workbook(bad)})
    job = Job.objects.get(kind=excel.KIND_IMPORT)
    assert job.result["imported"] == 0 and Household.objects.count() == 0
    rows = {row for row, _col, _msg in job.result["errors"]}
    assert rows == {4, 5}
    page = client.get(response.url).content.decode()
    assert "没有导入任何一户" in page and "没有这个关爱标签：外星人" in page


def test_import_needs_the_permission(cast, login):
    assert login(cast.supervisor).get("/households/excel/import/").status_code == 403


def test_the_export_is_masked_scoped_and_audited(cast, login):
    household(cast.station_admin, 1)
    household(cast.institute_admin, 2, region=VILLAGE2)
    response = login(cast.station_admin).get("/households/excel/export/")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the station's one household
    text = str(rows)
    assert "王*" in text and "135****0001" in text and "13512340001" not in text
    assert AuditEvent.objects.filter(verb="household.export").count() == 1


def test_columns_may_come_in_another_order(cast, login):
    wb = Workbook()
    ws = wb.active
    cols = excel.headers()
    order = [3, 0, 1, 2, 4, 5]  # 户主姓名 first; the members' columns left out
    ws.append([cols[i] for i in order])
    ws.append([GOOD[0][i] for i in order])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "households.xlsx"
    login(cast.station_admin).post("/households/excel/import/", {"file": out})
    job = Job.objects.get(kind=excel.KIND_IMPORT)
    assert job.status == "succeeded" and job.result["imported"] == 1
    assert Household.objects.get().head_masked == "张**"


def test_a_file_that_is_not_a_workbook_fails_clearly(cast, login):
    junk = io.BytesIO(b"PK\x03\x04 not a workbook")
    junk.name = "households.xlsx"
    response = login(cast.station_admin).post("/households/excel/import/", {"file": junk})
    job = Job.objects.get(kind=excel.KIND_IMPORT)
    assert job.status == "failed" and "无法读取该文件" in job.error
    assert "无法读取该文件" in login(cast.station_admin).get(response.url).content.decode()
    assert Household.objects.count() == 0


def test_too_many_rows_are_refused_before_any_is_checked(cast, login, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 1)
    login(cast.station_admin).post("/households/excel/import/", {"file": workbook(GOOD)})
    job = Job.objects.get(kind=excel.KIND_IMPORT)
    assert job.status == "failed" and "最多 1 行" in job.error
    assert Household.objects.count() == 0
    assert not AuditEvent.objects.filter(verb="household.import").exists()
