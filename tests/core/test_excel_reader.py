"""The one reader of every Excel import: a bad file is one clear error, columns are found
by their header, the row cap holds whatever the file declares, cells are read as typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from wenming.core.excel import (
    Column,
    WorkbookError,
    cell_date,
    cell_int,
    cell_text,
    cell_tokens,
    cell_yes,
    match_header,
    read_rows,
    sheet_precheck,
)

COLUMNS = (Column("name", "姓名", True), Column("phone", "手机号码"), Column("age", "年龄"))


def xlsx(tmp_path: Path, rows: list[list[object]], name: str = "upload") -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    path = tmp_path / name  # stored uploads have no .xlsx suffix
    wb.save(path)
    return path


def test_columns_are_found_by_header_in_any_order(tmp_path):
    path = xlsx(
        tmp_path,
        [["年龄", "备注", "姓名*"], [70, "x", "王大爷"], [None, None, None], ["", "", "李奶奶"]],
    )
    assert sheet_precheck(path, COLUMNS, max_rows=10) == 3
    # Blank rows are skipped; unknown columns ignored; a missing optional column is None.
    assert list(read_rows(path, COLUMNS, max_rows=10)) == [
        (2, ["王大爷", None, 70]),
        (4, ["李奶奶", None, None]),  # openpyxl reads an empty string as nothing
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "文件是空的"),
        (["手机号码"], "表头缺少必填的列：「姓名」"),
        (["姓名", "姓名 *"], "表头「姓名」出现了 2 次"),
    ],
)
def test_a_bad_header_is_refused(header, message):
    with pytest.raises(WorkbookError, match=message) as caught:
        match_header(header, COLUMNS)
    assert caught.value.field == "file"


def test_not_a_workbook_is_one_clear_error(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(WorkbookError, match="无法读取该文件"):
        sheet_precheck(path, COLUMNS, max_rows=10)
    with pytest.raises(WorkbookError, match="无法读取该文件"):
        list(read_rows(path, COLUMNS, max_rows=10))


def test_the_row_cap_holds_before_and_while_reading(tmp_path):
    path = xlsx(tmp_path, [["姓名"], *[[f"人{n}"] for n in range(6)]])
    with pytest.raises(WorkbookError, match="最多 5 行") as caught:
        sheet_precheck(path, COLUMNS, max_rows=5)
    assert caught.value.code == "too_many_rows"
    # Streaming stops at the cap even when nobody asked for the declared size.
    rows = read_rows(path, COLUMNS, max_rows=5)
    assert [next(rows)[1][0] for _ in range(5)] == [f"人{n}" for n in range(5)]
    with pytest.raises(WorkbookError, match="最多 5 行"):
        next(rows)


def test_a_header_without_rows_is_refused(tmp_path):
    path = xlsx(tmp_path, [["姓名", "手机号码"]])
    with pytest.raises(WorkbookError, match="没有数据行"):
        sheet_precheck(path, COLUMNS, max_rows=5)


def test_cell_readers():
    assert cell_text(None) == "" and cell_text(" 王 ") == "王" and cell_text(1942.0) == "1942"
    assert cell_text(dt.datetime(2026, 1, 2, 3, 4)) == "2026-01-02"
    assert cell_text(True) == "是"
    assert [cell_yes(v) for v in ("是", "√", "否", "", "也许", True)] == [
        True, True, False, False, None, True,
    ]  # fmt: skip
    assert cell_date("2026年1月2日") == cell_date("2026/01/02") == dt.date(2026, 1, 2)
    assert cell_date(dt.datetime(2026, 1, 2, 9)) == dt.date(2026, 1, 2)
    with pytest.raises(ValueError):
        cell_date("明天")
    assert cell_tokens("理论宣讲、文艺演出, 医疗卫生；") == ["理论宣讲", "文艺演出", "医疗卫生"]
    assert cell_int("") is None and cell_int(1950.0, digits=4) == 1950
    for bad in ("195", "１９５０", "19x0"):
        with pytest.raises(ValueError):
            cell_int(bad, digits=4)
