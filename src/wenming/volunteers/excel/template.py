"""The volunteer sheet: its columns, the regions in the actor's scope, the template
workbook to fill in, and the first look at an upload."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.accounts.types import Actor
from wenming.core import regions as rc
from wenming.core.access import has_perm, prefixes_for, subtree_q
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.excel import (
    Column,
    sheet_precheck,
)
from wenming.core.roles import Perm
from wenming.network.models import Region
from wenming.volunteers.identity import parse_identity
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    PoliticalStatus,
    Skill,
)

AUDIT_VERBS = {
    "volunteer.import": pgettext_lazy("audit verb", "批量导入志愿者"),
    "volunteer.export": pgettext_lazy("audit verb", "导出志愿者"),
}

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
INLINE_MAX_ROWS = 500  # up to this many rows the check and the import run in the request
BATCH = 2000
MAX_REPORTED_ERRORS = 20_000
SHEET_TITLE = "志愿者"
CHOICES_TITLE = "可选值"
KIND_CHECK = "volunteers.import_check"
KIND_APPLY = "volunteers.import_apply"
MODE_ALL = "all"
MODE_VALID = "valid"


COLUMNS: tuple[Column, ...] = (
    Column("name", gettext_lazy("姓名"), True, 10),
    Column("phone", gettext_lazy("手机号码"), True, 14),
    Column("id_type", gettext_lazy("证件类型"), True, 14),
    Column("id_number", gettext_lazy("证件号码"), True, 22),
    Column("birth_date", gettext_lazy("出生日期（非身份证必填）"), False, 14),
    Column("gender", gettext_lazy("性别（非身份证必填）"), False, 10),
    Column("region", gettext_lazy("所在村（社区）"), True, 34),
    Column("skills", gettext_lazy("技能（多个用顿号分隔）"), False, 22),
    Column("availability", gettext_lazy("服务时间（多个用顿号分隔）"), False, 22),
    Column("service_regions", gettext_lazy("服务区域（多个用顿号分隔）"), False, 22),
    Column("political_status", gettext_lazy("政治面貌"), False, 12),
    Column("consent", gettext_lazy("本人同意登记（《志愿服务条例》第二十条）"), True, 16),
    Column("guardian_name", gettext_lazy("监护人姓名（未成年人必填）"), False, 12),
    Column("guardian_phone", gettext_lazy("监护人电话（未成年人必填）"), False, 14),
    Column("guardian_consent", gettext_lazy("监护人同意（未成年人必填）"), False, 12),
)
COLUMN_INDEX = {c.key: i for i, c in enumerate(COLUMNS)}
# Where a registration rule's field is reported.
FIELD_COLUMN = {
    "name": "name",
    "phone": "phone",
    "id_type": "id_type",
    "id_number": "id_number",
    "birth_date": "birth_date",
    "gender": "gender",
    "consent": "consent",
    "guardian_name": "guardian_name",
    "guardian_phone": "guardian_phone",
    "guardian_consent": "guardian_consent",
    "political_status": "political_status",
    "availability": "availability",
    "region": "region",
    "skills": "skills",
    "service_regions": "service_regions",
}


def column_label(key: str) -> str:
    index = COLUMN_INDEX.get(key)
    return str(COLUMNS[index].header) if index is not None else key


# ---------------------------------------------------------------- the actor's scope


def _require_import(actor: Actor) -> list[str]:
    prefixes = prefixes_for(actor, Perm.VOLUNTEER_MANAGE)
    if prefixes:
        return prefixes
    if has_perm(actor, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有导入志愿者的权限。"))
    from wenming.core.errors import NotFound

    raise NotFound(_("找不到该页面。"))


def scope_code(actor: Actor, perm: Perm = Perm.VOLUNTEER_MANAGE) -> str:
    """The actor's broadest region for `perm`, as a 12-digit code (for jobs and audit)."""
    prefixes = prefixes_for(actor, perm)
    return prefixes[0].ljust(rc.CODE_LENGTH, "0") if prefixes else ""


def _regions_in(prefixes: Sequence[str]) -> list[Region]:
    query = subtree_q("code", prefixes[0])
    for prefix in prefixes[1:]:
        query |= subtree_q("code", prefix)
    return list(
        Region.objects.filter(query, level__gte=rc.Level.TOWN)
        .select_related("parent")
        .order_by("code")
    )


def region_label(region: Region) -> str:
    if region.level == rc.Level.VILLAGE and region.parent is not None:
        return f"{region.parent.name}·{region.name}（{region.code}）"
    return f"{region.name}（{region.code}）"


# ---------------------------------------------------------------- template


def template_workbook(*, actor: Actor) -> bytes:
    """The import template: headers, a sample row that checks clean, the allowed values
    on a second sheet with drop-downs pointing at them, and a short guide."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    prefixes = _require_import(actor)
    regions = _regions_in(prefixes)
    villages = [r for r in regions if r.level == rc.Level.VILLAGE] or regions
    skills = list(Skill.objects.values_list("name", flat=True))

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    ws.append([c.marked for c in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = Font(bold=True, color="B00000" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "A2"

    sample_region = villages[0] if villages else None
    ws.append(_sample_row(sample_region, skills))
    for key in ("phone", "id_number", "guardian_phone", "birth_date"):
        letter = get_column_letter(COLUMN_INDEX[key] + 1)
        ws.column_dimensions[letter].number_format = "@"
        ws[f"{letter}2"].number_format = "@"

    lists: list[tuple[str, list[str]]] = [
        (_("证件类型"), [str(label) for label in IdType.labels]),
        (_("性别"), [str(label) for label in Gender.labels]),
        (_("政治面貌"), [str(label) for label in PoliticalStatus.labels]),
        (_("技能"), skills),
        (_("服务时间"), [str(label) for label in Availability.labels]),
        (_("是否同意"), [_("是"), _("否")]),
        (_("所在村（社区）及代码"), [region_label(r) for r in regions]),
    ]
    choices = wb.create_sheet(CHOICES_TITLE)
    ranges: dict[str, str] = {}
    for index, (title, values) in enumerate(lists, start=1):
        letter = get_column_letter(index)
        choices.cell(row=1, column=index, value=title).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            choices.cell(row=row, column=index, value=value)
        choices.column_dimensions[letter].width = 40 if index == len(lists) else 16
        ranges[title] = f"'{CHOICES_TITLE}'!${letter}$2:${letter}${max(2, len(values) + 1)}"

    def dropdown(key: str, title: str) -> None:
        letter = get_column_letter(COLUMN_INDEX[key] + 1)
        validation = DataValidation(
            type="list", formula1=ranges[title], allow_blank=True, showErrorMessage=False
        )
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        ws.add_data_validation(validation)

    dropdown("id_type", _("证件类型"))
    dropdown("gender", _("性别"))
    dropdown("political_status", _("政治面貌"))
    dropdown("region", _("所在村（社区）及代码"))
    dropdown("consent", _("是否同意"))
    dropdown("guardian_consent", _("是否同意"))

    guide = wb.create_sheet(_("填写说明"))
    for line in (
        _("1. 第 1 行是表头，请勿修改；第 2 行是示例，导入前请改成真实信息或删除。"),
        _("2. 带 * 的列必填。证件号码、手机号码请按文本填写（本模板已设为文本格式）。"),
        _("3. 所在村（社区）请从下拉列表选择，或填写 12 位区划代码；只能导入您管辖范围内的。"),
        _("4. 技能、服务时间、服务区域可填多个，用顿号（、）分隔，取值见「可选值」表。"),
        _("5. 须经本人同意方可登记（《志愿服务条例》第二十条），请在同意列填「是」。"),
        _("6. 未满 18 周岁的，须填写监护人姓名、电话，并在监护人同意列填「是」。"),
        _("7. 同一证件号码或手机号码只能登记一次；已登记过的会在检查报告中列出，不会重复导入。"),
        _("8. 每个文件最多 %(rows)s 行、%(mb)s MB。") % {"rows": f"{MAX_ROWS:,}", "mb": 20},
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 100

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sample_row(region: Region | None, skills: list[str]) -> list[Any]:
    county = rc.county_prefix(region.code) if region else "320305"
    number = ""
    for prefix in (county, "320305", "110101"):
        base = f"{prefix}19900101123"
        from stdnum.cn import ric

        candidate = base + ric.calc_check_digit(base + "0")
        try:
            parse_identity(IdType.RIC, candidate)
        except RuleViolation:
            continue
        number = candidate
        break
    values: dict[str, Any] = {
        "name": _("张三"),
        "phone": "13800138000",
        "id_type": str(IdType.RIC.label),
        "id_number": number,
        "region": region_label(region) if region else "",
        "skills": "、".join(skills[:2]),
        "availability": str(Availability.WEEKEND_DAY.label),
        "political_status": str(PoliticalStatus.MASSES.label),
        "consent": _("是"),
    }
    return [values.get(c.key, "") for c in COLUMNS]


# ---------------------------------------------------------------- reading


def workbook_precheck(path: Path) -> int:
    """Open the file, check its header and size; return the number of rows it declares
    (data rows, header excluded; an estimate from the sheet's dimension)."""
    return sheet_precheck(path, COLUMNS, max_rows=MAX_ROWS, title=SHEET_TITLE)
