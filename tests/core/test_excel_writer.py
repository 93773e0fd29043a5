"""Every export writes user text as text, and never fails on stored text."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.volunteers.test_services import register
from wenming.core.excel import SheetWriter
from wenming.households import excel as household_excel
from wenming.volunteers import excel as volunteer_excel
from wenming.volunteers.models import Volunteer

FORMULAS = [
    '=HYPERLINK("http://evil.example/","点我")',
    "+1+2",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def _cells(data: bytes) -> list[list[openpyxl.cell.Cell]]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(r) for r in ws.iter_rows()]


@pytest.mark.parametrize("text", FORMULAS)
def test_writer_keeps_formula_like_text_as_text(text):
    out = io.BytesIO()
    w = SheetWriter("表", ["名称", "数"])
    w.append([text, 3])
    w.save(out)
    rows = _cells(out.getvalue())
    cell = rows[1][0]
    assert cell.data_type == "s"
    # XML reads a stored CR back as LF; the text is otherwise kept as typed.
    assert cell.value == text.replace("\r", "\n")
    assert cell.quotePrefix is True
    assert rows[1][1].value == 3 and rows[1][1].data_type == "n"
    assert w.rows == 1


def test_writer_drops_characters_the_format_cannot_hold():
    out = io.BytesIO()
    w = SheetWriter("表")
    w.append(["坏\x1d名\x00字", "多行\n文本\t可以"])
    w.save(out)
    row = _cells(out.getvalue())[0]
    assert [c.value for c in row] == ["坏名字", "多行\n文本\t可以"]
    assert row[0].quotePrefix is False


def test_volunteer_export_writes_a_formula_name_as_text(cast):
    v = register(cast.county_admin, 1, name='=HYPERLINK("http://evil.example/","点我")')
    broken = register(cast.county_admin, 2)
    # Stored before input was checked: a control character in a name.
    Volunteer.objects.filter(pk=broken.pk).update(name="坏\x1d名")
    out = io.BytesIO()
    count = volunteer_excel.export_workbook(actor=cast.county_admin, filters={}, out=out)
    assert count == 2
    rows = {r[0].value: r for r in _cells(out.getvalue())[1:]}
    name = rows[v.number][1]
    assert name.value == '=HYPERLINK("http://evil.example/","点我")'
    assert name.data_type == "s" and name.quotePrefix is True
    assert rows[broken.number][1].value == "坏名"


def test_household_export_writes_a_formula_address_as_text(cast, net):
    from tests.households.helpers import household
    from wenming.households.models import Household

    h = household(cast.station_admin)
    Household.objects.filter(pk=h.pk).update(address="=1+2")
    out = io.BytesIO()
    assert household_excel.export_workbook(actor=cast.county_admin, filters={}, out=out) == 1
    row = _cells(out.getvalue())[1]
    assert row[0].value == h.pk
    assert row[2].value == "=1+2" and row[2].data_type == "s"
