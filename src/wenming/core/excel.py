"""The one writer every Excel export goes through, and the one reader of every import
(below).

User text is written as text, whatever it starts with: openpyxl turns any string that
starts with `=` into a live formula (`=HYPERLINK(…)` in a volunteer's name would become
a link in the staff's export), so every string cell is typed as a string, and one that
a spreadsheet could still read as a formula when edited (`=`, `+`, `-`, `@`, tab, CR)
also carries Excel's quote prefix. Characters that the xlsx format cannot hold (C0
controls other than tab, LF and CR) are dropped rather than failing the whole export:
an export never fails on stored text."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation

# Excel's own limit for one cell's text.
MAX_CELL_CHARS = 32_767
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _clean(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_CHARS]


class SheetWriter:
    """A write-only workbook with one sheet: `append` rows, then `save`. Rows stream to
    a temporary file, so memory stays flat however many rows an export has."""

    def __init__(self, title: str | Promise, headers: Iterable[object] = ()) -> None:
        from openpyxl import Workbook

        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(_clean(str(title))[:31])
        self.rows = 0
        headers = list(headers)
        if headers:
            self._ws.append([self._cell(h) for h in headers])

    def _cell(self, value: object) -> Any:
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, Promise):
            value = str(value)
        if not isinstance(value, str):
            return value
        text = _clean(value)
        cell = WriteOnlyCell(self._ws, value=text)
        cell.data_type = "s"
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        return cell

    def append(self, values: Iterable[object]) -> None:
        self._ws.append([self._cell(v) for v in values])
        self.rows += 1

    def save(self, out: IO[bytes] | Any) -> None:
        self._wb.save(out)


# ---------------------------------------------------------------- reading uploads
#
# Every import reads through these: a bad file is one clear error (never a server
# error), the sheet streams (read-only, so memory stays flat), columns are found by
# their header in any order, the row cap is checked from the sheet's declared size
# before any row is read and again while streaming (a file may lie about its size), and
# cells are read by typed readers that accept what people type in a spreadsheet.

YES = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "同意", "已同意", "确认"})
NO = frozenset({"", "否", "n", "no", "false", "0", "×", "不同意"})
_SPLIT_RE = re.compile(r"[、,，;；/\s]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


class WorkbookError(RuleViolation):
    """The file as a whole cannot be imported (not a workbook, no header, too big)."""

    def __init__(self, message: str, *, code: str = "bad_file") -> None:
        super().__init__(message, field="file", code=code)


@dataclass(frozen=True)
class Column:
    """A column of an import: found by its header (in the active language or in
    Chinese, ignoring spaces and the `*` that marks a required column)."""

    key: str
    header: str | Promise
    required: bool = False
    width: int = 14

    @property
    def marked(self) -> str:
        return f"{self.header}*" if self.required else str(self.header)


def header_key(text: Any) -> str:
    return re.sub(r"[\s*＊]", "", str(text or ""))


def accepted_headers(columns: Sequence[Column]) -> list[set[str]]:
    """Each column's accepted header texts: in the active language and in Chinese."""
    accepted = [{header_key(c.header)} for c in columns]
    with translation.override("zh-hans"):
        for names, column in zip(accepted, columns, strict=True):
            names.add(header_key(column.header))
    return accepted


@contextlib.contextmanager
def open_sheet(path: Path, title: str = "") -> Iterator[Any]:
    """The workbook's sheet called `title` (else its first), read-only and streaming.
    Opened from a file object: openpyxl refuses a path without an .xlsx suffix, and
    stored uploads have none."""
    from openpyxl import load_workbook

    with path.open("rb") as handle:
        try:
            wb = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            raise WorkbookError(
                _("无法读取该文件：请上传用本系统模板填写的 Excel 文件（.xlsx）。")
            ) from exc
        try:
            if title and title in wb.sheetnames:
                yield wb[title]
            elif wb.worksheets:
                yield wb.worksheets[0]
            else:  # pragma: no cover - openpyxl always has a sheet
                raise WorkbookError(_("文件是空的：没有表头，也没有数据。"))
        finally:
            wb.close()


def match_header(header: Sequence[Any] | None, columns: Sequence[Column]) -> list[int | None]:
    """Where each column is in the file: matched by its header, in any order (a county's
    own sheet may move or drop columns); other columns are ignored. Refused: no header,
    a required column missing, or one header given twice."""
    if header is None:
        raise WorkbookError(_("文件是空的：没有表头，也没有数据。"))
    cells = [header_key(v) for v in header]
    positions: list[int | None] = []
    missing: list[str] = []
    for column, accepted in zip(columns, accepted_headers(columns), strict=True):
        found = [i for i, got in enumerate(cells) if got and got in accepted]
        if len(found) > 1:
            raise WorkbookError(
                _("表头「%(name)s」出现了 %(n)s 次，请只保留一列。")
                % {"name": column.header, "n": len(found)}
            )
        positions.append(found[0] if found else None)
        if not found and column.required:
            missing.append(str(column.header))
    if missing:
        raise WorkbookError(
            _("表头缺少必填的列：%(names)s。列的顺序可以不同，但表头文字须与模板一致。")
            % {"names": "、".join(f"「{m}」" for m in missing)}
        )
    return positions


def _too_many(rows: int, max_rows: int) -> WorkbookError:
    return WorkbookError(
        _("文件行数太多（%(n)s 行），每个文件最多 %(max)s 行，请分成几个文件。")
        % {"n": f"{rows:,}", "max": f"{max_rows:,}"},
        code="too_many_rows",
    )


def sheet_precheck(path: Path, columns: Sequence[Column], *, max_rows: int, title: str = "") -> int:
    """Open the file, check its header and declared size; return the number of data rows
    it declares (header excluded; from the sheet's dimension, so an estimate)."""
    with open_sheet(path, title) as sheet:
        rows = sheet.iter_rows(min_row=1, max_row=2, values_only=True)
        match_header(next(rows, None), columns)
        first = next(rows, None)
        if (first is None or not any(v not in (None, "") for v in first)) and (
            sheet.max_row or 0
        ) <= 2:
            raise WorkbookError(_("文件里没有数据行：请从第 2 行开始填写。"), code="no_rows")
        declared = max(0, (sheet.max_row or 0) - 1)
        if declared > max_rows:
            raise _too_many(declared, max_rows)
        return declared


def read_rows(
    path: Path, columns: Sequence[Column], *, max_rows: int, title: str = ""
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells in `columns` order) for every row that is not blank, streamed.
    The header is checked first; more than `max_rows` data rows stop the reading with
    a WorkbookError, whatever the file declared."""
    with open_sheet(path, title) as sheet:
        rows = sheet.iter_rows(values_only=True)
        positions = match_header(next(rows, None), columns)
        seen = 0
        for number, cells in enumerate(rows, start=2):
            if not any(cell_text(v) for v in cells):
                continue
            seen += 1
            if seen > max_rows:
                raise _too_many(seen, max_rows)
            yield (
                number,
                [cells[p] if p is not None and p < len(cells) else None for p in positions],
            )


def cell_text(value: Any) -> str:
    """A cell as the text a person sees: numbers without a trailing .0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def cell_yes(value: Any) -> bool | None:
    """True, False, or None when the cell says neither."""
    if value is True or value is False:
        return value
    text = cell_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def cell_date(value: Any) -> dt.date | None:
    """A date cell, or text in a usual Chinese or ISO form; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def cell_tokens(value: Any) -> list[str]:
    """A list typed into one cell, separated by 、 , ， ; ； / or spaces."""
    return [t for t in _SPLIT_RE.split(cell_text(value)) if t]


def cell_int(value: Any, *, digits: int | None = None) -> int | None:
    """A whole number, or None for an empty cell; ValueError for anything else."""
    text = cell_text(value)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or (digits is not None and len(text) != digits):
        raise ValueError(text)
    return int(text)


@dataclass(frozen=True)
class RowError:
    """One problem of one row, for the row report."""

    row: int
    column: str
    message: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.message]
