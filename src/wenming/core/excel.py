"""The one writer every Excel export goes through.

User text is written as text, whatever it starts with: openpyxl turns any string that
starts with `=` into a live formula (`=HYPERLINK(…)` in a volunteer's name would become
a link in the staff's export), so every string cell is typed as a string, and one that
a spreadsheet could still read as a formula when edited (`=`, `+`, `-`, `@`, tab, CR)
also carries Excel's quote prefix. Characters that the xlsx format cannot hold (C0
controls other than tab, LF and CR) are dropped rather than failing the whole export:
an export never fails on stored text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.utils.functional import Promise

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
