"""Volunteers in and out of Excel: the import template, the check of a filled workbook
(a row-by-row report before anything is written), the import itself (all rows or only
the valid ones, in one transaction), and the masked export.

The rules are single registration's (`services.registration_clean`), run with
lookups loaded once per file instead of per row. The check reads the workbook once,
streaming (openpyxl read-only), and writes the valid rows, already normalized,
encrypted and hashed, to a side file; the import reads that file, re-checks duplicates
inside its transaction and writes in batches. Nothing in the job results or the audit
log contains an ID or phone number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad, Substr
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.access import has_perm, in_scope, prefixes_for, subtree_q
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.jobs import UploadWriter, upload_delete, upload_path, upload_save
from wenming.core.models import Job
from wenming.core.roles import Perm
from wenming.network.models import Region, Unit, UnitKind
from wenming.volunteers.identity import parse_identity
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    PoliticalStatus,
    RegistrationPolicy,
    Skill,
    Volunteer,
    VolunteerStatus,
)
from wenming.volunteers.services import RegistrationInput, RegistrationLookups, registration_clean

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


@dataclass(frozen=True)
class Column:
    key: str
    header: Promise
    required: bool = False
    width: int = 14


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
YES = {"是", "y", "yes", "true", "1", "√", "✓", "同意", "已同意", "确认"}
NO = {"", "否", "n", "no", "false", "0", "×", "不同意"}
_SPLIT_RE = re.compile(r"[、,，;；/\s]+")
_CODE_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def column_label(key: str) -> str:
    index = COLUMN_INDEX.get(key)
    return str(COLUMNS[index].header) if index is not None else key


def _marked(column: Column) -> str:
    return f"{column.header}*" if column.required else str(column.header)


def _header_key(text: Any) -> str:
    return re.sub(r"[\s*＊]", "", str(text or ""))


def expected_headers() -> list[set[str]]:
    """Each column's accepted header: in the active language and in Chinese."""
    accepted = [{_header_key(c.header)} for c in COLUMNS]
    with translation.override("zh-hans"):
        for names, column in zip(accepted, COLUMNS, strict=True):
            names.add(_header_key(column.header))
    return accepted


# ---------------------------------------------------------------- the actor's scope


def _require_import(actor: Any) -> list[str]:
    prefixes = prefixes_for(actor, Perm.VOLUNTEER_MANAGE)
    if prefixes:
        return prefixes
    if has_perm(actor, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有导入志愿者的权限。"))
    from wenming.core.errors import NotFound

    raise NotFound(_("找不到该页面。"))


def scope_code(actor: Any, perm: Perm = Perm.VOLUNTEER_MANAGE) -> str:
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


def template_workbook(*, actor: Any) -> bytes:
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
    ws.append([_marked(c) for c in COLUMNS])
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


class WorkbookError(RuleViolation):
    """The file as a whole cannot be read as a volunteer workbook."""


@contextlib.contextmanager
def _open_sheet(path: Path) -> Iterator[Any]:
    """The workbook's volunteer sheet, read-only and streaming. Opened from a file
    object: openpyxl refuses a path without an .xlsx suffix, and uploads have none."""
    from openpyxl import load_workbook

    with path.open("rb") as handle:
        try:
            wb = load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            raise WorkbookError(
                _("无法读取该文件：请上传用本系统模板填写的 Excel 文件（.xlsx）。"), field="file"
            ) from exc
        try:
            yield wb[SHEET_TITLE] if SHEET_TITLE in wb.sheetnames else wb.worksheets[0]
        finally:
            wb.close()


def _check_header(header: Sequence[Any] | None) -> list[int | None]:
    """Where each of COLUMNS is in the file: columns are matched by their header, in
    any order (a county's own sheet may move or drop columns); other columns are
    ignored. Refused: a required column missing, or one header given twice."""
    if header is None:
        raise WorkbookError(_("文件是空的：没有表头，也没有数据。"), field="file")
    cells = [_header_key(v) for v in header]
    positions: list[int | None] = []
    missing: list[str] = []
    for index, accepted in enumerate(expected_headers()):
        found = [i for i, got in enumerate(cells) if got and got in accepted]
        if len(found) > 1:
            raise WorkbookError(
                _("表头「%(name)s」出现了 %(n)s 次，请只保留一列。")
                % {"name": COLUMNS[index].header, "n": len(found)},
                field="file",
            )
        positions.append(found[0] if found else None)
        if not found and COLUMNS[index].required:
            missing.append(str(COLUMNS[index].header))
    if missing:
        raise WorkbookError(
            _("表头缺少必填的列：%(names)s。列的顺序可以不同，但表头文字须与模板一致。")
            % {"names": "、".join(f"「{m}」" for m in missing)},
            field="file",
        )
    return positions


def _in_template_order(cells: Sequence[Any], positions: list[int | None]) -> list[Any]:
    return [cells[p] if p is not None and p < len(cells) else None for p in positions]


def workbook_precheck(path: Path) -> int:
    """Open the file, check its header and size; return the number of rows it declares
    (data rows, header excluded; an estimate from the sheet's dimension)."""
    with _open_sheet(path) as sheet:
        rows = sheet.iter_rows(min_row=1, max_row=2, values_only=True)
        header = next(rows, None)
        _check_header(header)
        first = next(rows, None)
        if first is None or not any(v not in (None, "") for v in first):
            declared = sheet.max_row or 0
            if declared <= 2:
                raise WorkbookError(_("文件里没有数据行：请从第 2 行开始填写。"), field="file")
        declared = max(0, (sheet.max_row or 0) - 1)
        if declared > MAX_ROWS:
            raise WorkbookError(
                _("文件行数太多（%(n)s 行），每个文件最多 %(max)s 行，请分成几个文件。")
                % {"n": f"{declared:,}", "max": f"{MAX_ROWS:,}"},
                field="file",
            )
        return declared


def store_upload(chunks: Iterable[bytes]) -> tuple[str, str, int]:
    return upload_save(chunks)


def _text(value: Any) -> str:
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


def _yes(value: Any) -> bool | None:
    """True, False, or None when the cell says neither."""
    if value is True or value is False:
        return value
    text = _text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _tokens(value: Any) -> list[str]:
    return [t for t in _SPLIT_RE.split(_text(value)) if t]


# ---------------------------------------------------------------- checking


@dataclass
class RowError:
    row: int
    column: str  # a COLUMNS key
    message: str

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.message]


@dataclass
class _Refs:
    """Everything a row is checked against, loaded once per file."""

    today: dt.date
    scope_prefixes: list[str]
    regions: dict[str, Region]  # towns and villages in the actor's scope
    by_name: dict[str, str | None]  # a village/town name (or town·village) → code
    skills: dict[str, Skill]  # by name
    skills_by_id: dict[int, Skill]
    other_regions: dict[str, Region | None] = field(default_factory=dict)

    @classmethod
    def load(cls, actor: Any, today: dt.date) -> _Refs:
        prefixes = _require_import(actor)
        regions = {r.code: r for r in _regions_in(prefixes)}
        by_name: dict[str, str | None] = {}
        for region in regions.values():
            names = [region.name, region_label(region)]
            if region.parent is not None and region.level == rc.Level.VILLAGE:
                names.append(f"{region.parent.name}·{region.name}")
                names.append(f"{region.parent.name}{region.name}")
            for name in names:
                key = _header_key(name)
                by_name[key] = (
                    None if key in by_name and by_name[key] != region.code else region.code
                )
        skills = list(Skill.objects.all())
        return cls(
            today=today,
            scope_prefixes=prefixes,
            regions=regions,
            by_name=by_name,
            skills={s.name: s for s in skills},
            skills_by_id={s.pk: s for s in skills},
        )

    def region_code(self, text: str) -> str | None:
        match = _CODE_RE.search(text)
        if match:
            return match.group(0)
        return self.by_name.get(_header_key(text))

    def any_region(self, code: str) -> Region | None:
        """A region anywhere (service regions may lie outside the actor's scope)."""
        if code in self.regions:
            return self.regions[code]
        if code not in self.other_regions:
            self.other_regions[code] = Region.objects.filter(code=code).first()
        return self.other_regions[code]

    def lookups(self) -> RegistrationLookups:
        return RegistrationLookups(
            region=self.regions.get,
            skills=lambda ids: [self.skills_by_id[i] for i in ids if i in self.skills_by_id],
            regions=lambda codes: [r for c in codes if (r := self.any_region(c)) is not None],
        )


_ID_TYPES = {
    **{str(label): value for value, label in IdType.choices},
    **{v: v for v in IdType.values},
}
_GENDERS = {"男": Gender.MALE, "女": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE}
_POLITICAL = {
    **{str(label): value for value, label in PoliticalStatus.choices},
    **{v: v for v in PoliticalStatus.values},
    "党员": PoliticalStatus.CPC,
    "团员": PoliticalStatus.CYL,
}
_AVAILABILITY = {
    **{str(label): value for value, label in Availability.choices},
    **{v: v for v in Availability.values},
}


def _choice_maps() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Labels in the active language too (a template downloaded in English)."""
    id_types = dict(_ID_TYPES, **{str(label): v for v, label in IdType.choices})
    political = dict(_POLITICAL, **{str(label): v for v, label in PoliticalStatus.choices})
    availability = dict(_AVAILABILITY, **{str(label): v for v, label in Availability.choices})
    return id_types, political, availability


@dataclass
class _Parsed:
    row: int
    values: dict[str, Any]
    id_digests: list[str]
    phone_digests: list[str]


class RowChecker:
    """Checks rows one by one with single registration's rules; duplicates are
    settled per batch (`settle`), with one query per batch, never per row."""

    def __init__(self, refs: _Refs) -> None:
        self.refs = refs
        self.lookups = refs.lookups()
        self.id_types, self.political, self.availability = _choice_maps()
        self.seen_ids: dict[str, int] = {}
        self.seen_phones: dict[str, int] = {}
        self.first_dups: dict[int, list[RowError]] = {}

    def parse(self, row_no: int, cells: Sequence[Any]) -> tuple[_Parsed | None, list[RowError]]:
        errors: list[RowError] = []
        cells = list(cells[: len(COLUMNS)]) + [None] * (len(COLUMNS) - len(cells))

        def cell(key: str) -> Any:
            return cells[COLUMN_INDEX[key]]

        def bad(key: str, message: str) -> None:
            errors.append(RowError(row_no, key, message))

        id_type_text = _text(cell("id_type"))
        id_type = self.id_types.get(id_type_text, "") if id_type_text else IdType.RIC
        if not id_type:
            bad("id_type", _("证件类型「%(v)s」不在可选范围内。") % {"v": id_type_text})
        raw_id = cell("id_number")
        if isinstance(raw_id, float):
            bad(
                "id_number",
                _("证件号码被 Excel 存成了数字，后几位可能已丢失：请把该列设为文本后重新填写。"),
            )
            id_text = ""
        else:
            id_text = _text(raw_id)
        birth = None
        if _text(cell("birth_date")):
            try:
                birth = _date(cell("birth_date"))
            except ValueError:
                bad("birth_date", _("出生日期格式不正确，请填写如 1990-01-31。"))
        gender_text = _text(cell("gender"))
        gender = _GENDERS.get(gender_text.lower(), "") if gender_text else ""
        if gender_text and not gender:
            bad("gender", _("性别请填写「男」或「女」。"))
        region_text = _text(cell("region"))
        region_code = ""
        if not region_text:
            bad("region", _("请填写所在村（社区）。"))
        else:
            code = self.refs.region_code(region_text)
            if code is None:
                bad("region", _("找不到「%(v)s」，请从下拉列表选择。") % {"v": region_text[:40]})
            elif code not in self.refs.regions:
                if self.refs.any_region(code) is not None:
                    bad("region", _("该村（社区）不在您的管辖范围内。"))
                else:
                    bad("region", _("找不到区划代码 %(v)s。") % {"v": code})
            else:
                region_code = code
        skill_ids: list[int] = []
        for name in _tokens(cell("skills")):
            skill = self.refs.skills.get(name)
            if skill is None:
                bad(
                    "skills",
                    _("技能「%(v)s」不在可选范围内（见「可选值」表）。") % {"v": name[:20]},
                )
            else:
                skill_ids.append(skill.pk)
        slots: list[str] = []
        for name in _tokens(cell("availability")):
            slot = self.availability.get(name)
            if slot is None:
                bad("availability", _("服务时间「%(v)s」不在可选范围内。") % {"v": name[:20]})
            else:
                slots.append(slot)
        service_codes: list[str] = []
        for token in _tokens(cell("service_regions")):
            code = self.refs.region_code(token)
            if code is None or self.refs.any_region(code) is None:
                bad("service_regions", _("找不到服务区域「%(v)s」。") % {"v": token[:40]})
            else:
                service_codes.append(code)
        political_text = _text(cell("political_status"))
        political = self.political.get(political_text, "") if political_text else ""
        if political_text and not political:
            bad(
                "political_status",
                _("政治面貌「%(v)s」不在可选范围内。") % {"v": political_text[:20]},
            )
        consent = _yes(cell("consent"))
        guardian_consent = _yes(cell("guardian_consent"))

        data = RegistrationInput(
            name=_text(cell("name")),
            phone=_text(cell("phone")),
            id_type=id_type or IdType.RIC,
            id_number=id_text,
            region_code=region_code,
            consent=bool(consent),
            skill_ids=sorted(set(skill_ids)),
            service_region_codes=sorted(set(service_codes)),
            availability=sorted(set(slots)),
            political_status=political,
            guardian_name=_text(cell("guardian_name")),
            guardian_phone=_text(cell("guardian_phone")),
            guardian_consent=bool(guardian_consent),
            birth_date=birth,
            gender=gender,
        )
        broken: list[RuleViolation] = []
        values = registration_clean(data, self.refs.today, lookups=self.lookups, errors=broken)
        reported = {e.column for e in errors}
        for exc in broken:
            column = FIELD_COLUMN.get(exc.field or "", "name")
            if column in reported:
                continue  # already said what is wrong with that cell
            message = exc.message
            if column == "consent":
                message = _("须经本人同意方可登记（《志愿服务条例》第二十条），请在该列填「是」。")
            elif column == "region" and not region_code:
                continue
            errors.append(RowError(row_no, column, message))
            reported.add(column)
        if errors or values is None:
            return None, errors
        identity = values["identity"]
        return (
            _Parsed(
                row=row_no,
                values={**values, "data": data},
                id_digests=crypto.digests(identity.number),
                phone_digests=crypto.digests(values["phone"]),
            ),
            errors,
        )

    def settle(self, batch: list[_Parsed]) -> tuple[list[_Parsed], list[RowError]]:
        """Duplicates in the batch: against earlier rows of the file and against
        registered volunteers (two `__in` queries for the whole batch)."""
        if not batch:
            return [], []
        ids = [d for p in batch for d in p.id_digests]
        phones = [d for p in batch for d in p.phone_digests]
        taken_ids = set(
            Volunteer.objects.filter(id_digest__in=ids).values_list("id_digest", flat=True)
        )
        taken_phones = set(
            Volunteer.objects.filter(phone_digest__in=phones).values_list("phone_digest", flat=True)
        )
        good: list[_Parsed] = []
        errors: list[RowError] = []
        for parsed in batch:
            row_errors: list[RowError] = []
            id_key, phone_key = parsed.id_digests[0], parsed.phone_digests[0]
            first_id = self.seen_ids.setdefault(id_key, parsed.row)
            first_phone = self.seen_phones.setdefault(phone_key, parsed.row)
            if taken_ids.intersection(parsed.id_digests):
                row_errors.append(
                    RowError(parsed.row, "id_number", _("该证件号码已经注册过志愿者。"))
                )
            elif first_id != parsed.row:
                row_errors.append(
                    RowError(
                        parsed.row,
                        "id_number",
                        _("与第 %(n)s 行的证件号码重复。") % {"n": first_id},
                    )
                )
                self.first_dups.setdefault(first_id, []).append(
                    RowError(
                        first_id,
                        "id_number",
                        _("与第 %(n)s 行的证件号码重复。") % {"n": parsed.row},
                    )
                )
            if taken_phones.intersection(parsed.phone_digests):
                row_errors.append(RowError(parsed.row, "phone", _("该手机号码已经注册过志愿者。")))
            elif first_phone != parsed.row:
                row_errors.append(
                    RowError(
                        parsed.row, "phone", _("与第 %(n)s 行的手机号码重复。") % {"n": first_phone}
                    )
                )
                self.first_dups.setdefault(first_phone, []).append(
                    RowError(
                        first_phone,
                        "phone",
                        _("与第 %(n)s 行的手机号码重复。") % {"n": parsed.row},
                    )
                )
            if row_errors:
                errors.extend(row_errors)
            else:
                good.append(parsed)
        return good, errors


def _cleaned_record(parsed: _Parsed) -> dict[str, Any]:
    """A valid row as the import needs it: normalized, the numbers encrypted, hashed
    and masked (the side file holds no plaintext ID or phone number)."""
    v = parsed.values
    data: RegistrationInput = v["data"]
    number = v["identity"].number
    guardian = v["guardian_phone"]
    return {
        "row": parsed.row,
        "name": v["name"],
        "gender": v["gender"],
        "birth": v["birth"].isoformat(),
        "id_type": v["identity"].id_type,
        "id": [parsed.id_digests, crypto.encrypt(number), crypto.mask_id_number(number)],
        "phone": [
            parsed.phone_digests,
            crypto.encrypt(v["phone"]),
            crypto.mask_phone(v["phone"]),
        ],
        "region": v["region"].code,
        "availability": list(data.availability),
        "political": data.political_status,
        "minor": v["is_minor"],
        "guardian": [
            data.guardian_name.strip() if v["is_minor"] else "",
            crypto.encrypt(guardian) if guardian else "",
            crypto.mask_phone(guardian) if guardian else "",
        ],
        "skills": list(data.skill_ids),
        "service_regions": list(data.service_region_codes),
    }


@dataclass
class CheckResult:
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)
    invalid_rows: set[int] = field(default_factory=set)
    cleaned_token: str = ""
    cleaned_sha256: str = ""

    def as_dict(self, *, sha256: str) -> dict[str, Any]:
        errors = sorted(self.errors, key=lambda e: (e.row, COLUMN_INDEX.get(e.column, 99)))
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": len(self.invalid_rows),
            "errors_total": len(errors),
            "errors": [e.as_list() for e in errors[:MAX_REPORTED_ERRORS]],
            "invalid_rows": sorted(self.invalid_rows),
            "cleaned": self.cleaned_token,
            "cleaned_sha256": self.cleaned_sha256,
            "sha256": sha256,
        }


def check_workbook(
    *,
    actor: Any,
    path: Path,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Check every row of a workbook in the actor's scope; write nothing to the database.
    The valid rows go to a side file (see `_cleaned_record`) for the import."""
    refs = _Refs.load(actor, today or timezone.localdate())
    checker = RowChecker(refs)
    result = CheckResult()
    with UploadWriter() as cleaned, _open_sheet(path) as sheet:
        rows = sheet.iter_rows(values_only=True)
        positions = _check_header(next(rows, None))
        batch: list[_Parsed] = []

        def flush() -> None:
            good, errors = checker.settle(batch)
            batch.clear()
            for error in errors:
                result.errors.append(error)
                result.invalid_rows.add(error.row)
            cleaned.write(
                "".join(
                    json.dumps(_cleaned_record(parsed), ensure_ascii=False) + "\n"
                    for parsed in good
                ).encode()
            )

        for row_no, cells in enumerate(rows, start=2):
            if not any(v is not None and v != "" for v in cells):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                raise WorkbookError(
                    _("文件行数太多，每个文件最多 %(max)s 行，请分成几个文件。")
                    % {"max": f"{MAX_ROWS:,}"},
                    field="file",
                )
            parsed, errors = checker.parse(row_no, _in_template_order(cells, positions))
            if errors:
                result.errors.extend(errors)
                result.invalid_rows.add(row_no)
            if parsed is not None:
                batch.append(parsed)
            if len(batch) >= BATCH:
                flush()
            if progress is not None:
                progress(result.rows)
        flush()
    result.cleaned_token, result.cleaned_sha256 = cleaned.token, cleaned.sha256
    if result.rows == 0:
        upload_delete(cleaned.token)
        raise WorkbookError(_("文件里没有数据行：请从第 2 行开始填写。"), field="file")
    for row, errors in checker.first_dups.items():
        seen = {(e.column) for e in result.errors if e.row == row}
        for error in errors:
            if error.column not in seen:  # one message per cell is enough
                result.errors.append(error)
                seen.add(error.column)
        result.invalid_rows.add(row)
    result.valid = result.rows - len(result.invalid_rows)
    return result


# ---------------------------------------------------------------- importing


IMPORT_RACE = "import_race"


@dataclass
class ApplyResult:
    imported: int = 0
    skipped: list[RowError] = field(default_factory=list)

    def as_dict(self, *, mode: str, check_job: int) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": [e.as_list() for e in self.skipped[:MAX_REPORTED_ERRORS]],
            "skipped_total": len(self.skipped),
            "mode": mode,
            "check_job": check_job,
        }


def _cleaned_rows(token: str, sha256: str, skip: set[int]) -> Iterator[list[dict[str, Any]]]:
    """The check's valid rows in batches, streamed (the file's hash is verified first)."""
    path = upload_path(token)
    if not path.exists():
        raise RuleViolation(_("检查结果已过期，请重新上传文件。"))
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise RuleViolation(_("检查结果已损坏，请重新上传文件。"))
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            record = json.loads(line)
            if record["row"] in skip:
                continue
            batch.append(record)
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def _units_for(codes: set[str]) -> dict[str, Unit]:
    """The registering unit of each region (as `services.registering_unit`), with one
    query for all of them."""
    wanted = set(codes)
    for code in codes:
        wanted.update(rc.ancestors_of(code))
    units = {
        u.region_id: u
        for u in Unit.objects.filter(region_id__in=wanted, is_active=True).exclude(
            kind=UnitKind.POINT
        )
    }
    result: dict[str, Unit] = {}
    for code in codes:
        for candidate in [code, *reversed(rc.ancestors_of(code))]:
            if candidate in units:
                result[code] = units[candidate]
                break
    return result


def _number_in_advance(volunteers: list[Volunteer]) -> bool:
    """On PostgreSQL, take the batch's ids from the table's sequence in one query and
    write each volunteer number in the INSERT itself: every row is then written once,
    where an UPDATE afterwards writes it (and its indexes) twice. Elsewhere the caller
    numbers the batch with one UPDATE."""
    if connection.vendor != "postgresql":
        return False
    table = Volunteer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(volunteers)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for volunteer, pk in zip(volunteers, ids, strict=True):
        volunteer.pk = pk
        volunteer.number = f"{rc.county_prefix(volunteer.region_id)}{pk:08d}"
    return True


@transaction.atomic
def import_apply(
    *,
    actor: Any,
    check_job: Job,
    mode: str,
    apply_job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ApplyResult:
    """Import the rows a check found valid, in one transaction: all of them or none
    (mode "all": any invalid row refuses the whole file), or only the valid ones
    (mode "valid"). Duplicates are re-checked inside the transaction, and the unique
    keyed hashes refuse a registration that slips in between: the whole import then
    rolls back. One audit event for the import, without personal data."""
    if mode not in (MODE_ALL, MODE_VALID):
        raise RuleViolation(_("请选择导入方式。"))
    _require_import(actor)
    locked = Job.objects.select_for_update().get(pk=check_job.pk)
    report = locked.result
    if locked.kind != KIND_CHECK or locked.status != "succeeded" or not report.get("cleaned"):
        raise RuleViolation(_("请先完成文件检查。"))
    if report.get("applied"):
        raise RuleViolation(_("该文件已经导入过，不会重复导入。"))
    if mode == MODE_ALL and report.get("invalid"):
        raise RuleViolation(
            _("文件中有 %(n)s 行有误。按「全部导入」方式，有错则一行也不导入。")
            % {"n": report["invalid"]}
        )
    skip_rows = set(report.get("invalid_rows", []))
    batches = _cleaned_rows(report["cleaned"], report["cleaned_sha256"], skip_rows)

    result = ApplyResult()
    # Registering units (and whether they review registrations), looked up per batch
    # for the regions not seen yet: one query each, whatever the number of rows.
    units: dict[str, Unit] = {}
    allowed: set[str] = set()
    seen_regions: set[str] = set()
    policies: set[int] = set()
    now = timezone.now()
    skill_through = Volunteer.skills.through
    region_through = Volunteer.service_regions.through
    done = 0
    for batch in batches:
        new = {r["region"] for r in batch} - seen_regions
        if new:
            seen_regions |= new
            allowed |= {c for c in new if in_scope(actor, Perm.VOLUNTEER_MANAGE, c)}
            found = _units_for(new & allowed)
            units.update(found)
            policies |= set(
                RegistrationPolicy.objects.filter(
                    unit__in=list(found.values()), approval_required=True
                ).values_list("unit_id", flat=True)
            )
        id_digests = [d for r in batch for d in r["id"][0]]
        phone_digests = [d for r in batch for d in r["phone"][0]]
        taken_ids = set(
            Volunteer.objects.filter(id_digest__in=id_digests).values_list("id_digest", flat=True)
        )
        taken_phones = set(
            Volunteer.objects.filter(phone_digest__in=phone_digests).values_list(
                "phone_digest", flat=True
            )
        )
        volunteers: list[Volunteer] = []
        extras: list[tuple[list[int], list[str]]] = []
        for r in batch:
            problem = None
            if r["region"] not in allowed or r["region"] not in units:
                problem = RowError(r["row"], "region", _("该村（社区）不在您的管辖范围内。"))
            elif taken_ids.intersection(r["id"][0]):
                problem = RowError(
                    r["row"], "id_number", _("检查之后，该证件号码已被登记为志愿者。")
                )
            elif taken_phones.intersection(r["phone"][0]):
                problem = RowError(r["row"], "phone", _("检查之后，该手机号码已被登记为志愿者。"))
            if problem is not None:
                if mode == MODE_ALL:
                    raise RuleViolation(
                        _("第 %(row)s 行：%(msg)s 按「全部导入」方式，本次一行也没有导入。")
                        % {"row": problem.row, "msg": problem.message}
                    )
                result.skipped.append(problem)
                continue
            unit = units[r["region"]]
            volunteers.append(
                Volunteer(
                    name=r["name"],
                    gender=r["gender"],
                    birth_date=dt.date.fromisoformat(r["birth"]),
                    id_type=r["id_type"],
                    id_digest=r["id"][0][0],
                    id_cipher=r["id"][1],
                    id_masked=r["id"][2],
                    phone_digest=r["phone"][0][0],
                    phone_cipher=r["phone"][1],
                    phone_masked=r["phone"][2],
                    region_id=r["region"],
                    unit=unit,
                    availability=r["availability"],
                    political_status=r["political"],
                    is_minor=r["minor"],
                    guardian_name=r["guardian"][0],
                    guardian_phone_cipher=r["guardian"][1],
                    guardian_phone_masked=r["guardian"][2],
                    guardian_consent_at=now if r["minor"] else None,
                    consent_at=now,
                    status=VolunteerStatus.PENDING
                    if unit.pk in policies
                    else VolunteerStatus.ACTIVE,
                )
            )
            extras.append((r["skills"], r["service_regions"]))
        if volunteers:
            numbered = _number_in_advance(volunteers)
            try:
                with transaction.atomic():
                    Volunteer.objects.bulk_create(volunteers)
            except IntegrityError as exc:  # a registration committed in between
                raise RuleViolation(
                    _(
                        "导入时发现有证件号码或手机号码刚刚被登记（可能有人同时在登记），"
                        "本次导入已全部撤销，没有写入任何一行。请重新上传检查后再导入。"
                    ),
                    code=IMPORT_RACE,
                ) from exc
            ids = [v.pk for v in volunteers]
            if not numbered:
                # The number is `<county6><pk:08d>` (as services.volunteer_register
                # gives it): one set-based UPDATE for the batch, no per-row save.
                Volunteer.objects.filter(pk__in=ids).update(
                    number=Concat(
                        Substr("region_id", 1, 6),
                        LPad(Cast("id", CharField(max_length=20)), 8, Value("0")),
                        output_field=CharField(),
                    )
                )
            skill_through.objects.bulk_create(
                [
                    skill_through(volunteer_id=pk, skill_id=skill)
                    for pk, (skills, _codes) in zip(ids, extras, strict=True)
                    for skill in skills
                ]
            )
            region_through.objects.bulk_create(
                [
                    region_through(volunteer_id=pk, region_id=code)
                    for pk, (_skills, codes) in zip(ids, extras, strict=True)
                    for code in codes
                ]
            )
            result.imported += len(volunteers)
        done += len(batch)
        if progress is not None:
            progress(done)

    report = dict(report, applied=apply_job_id or True)
    Job.objects.filter(pk=locked.pk).update(result=report)
    audit_record(
        actor=actor,
        verb="volunteer.import",
        target=locked,
        region_code=locked.region_code,
        changes={
            "imported": result.imported,
            "skipped": len(result.skipped),
            "invalid": report.get("invalid", 0),
            "rows": report.get("rows", 0),
            "mode": mode,
            "check_job": locked.pk,
            "apply_job": apply_job_id,
            "sha256": report.get("sha256", ""),
        },
    )
    return result


# ---------------------------------------------------------------- export


EXPORT_HEADERS = (
    gettext_lazy("志愿者编号"),
    gettext_lazy("姓名"),
    gettext_lazy("性别"),
    gettext_lazy("证件类型"),
    gettext_lazy("证件号码（已脱敏）"),
    gettext_lazy("手机号码（已脱敏）"),
    gettext_lazy("所在村（社区）"),
    gettext_lazy("注册单位"),
    gettext_lazy("技能"),
    gettext_lazy("服务时间"),
    gettext_lazy("政治面貌"),
    gettext_lazy("状态"),
    gettext_lazy("星级"),
    gettext_lazy("确认服务时长（小时）"),
    gettext_lazy("注册时间"),
)


def _audit_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the audit log may keep them: a searched phone number masked."""
    from wenming.accounts.phones import normalize_phone

    kept = {k: v for k, v in filters.items() if v not in (None, "")}
    search = kept.get("search")
    if search:
        try:
            kept["search"] = crypto.mask_phone(normalize_phone(search))
        except RuleViolation:
            if _CODE_RE.search(search) or re.search(r"[0-9]{15,}", search):
                kept["search"] = crypto.mask_id_number(search)
    return kept


def export_workbook(*, actor: Any, filters: dict[str, Any], out: Any) -> int:
    """Write the volunteers in the actor's VOLUNTEER_VIEW scope that match the list
    page's filters to `out` as a workbook (masked numbers only); audited. Rows stream
    through a write-only workbook, their skills fetched once per batch."""
    from wenming.core.excel import SheetWriter
    from wenming.volunteers import selectors

    if not has_perm(actor, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有查看志愿者的权限。"))
    qs = selectors.volunteer_list(actor=actor, **filters).values_list(
        "pk",
        "number",
        "name",
        "gender",
        "id_type",
        "id_masked",
        "phone_masked",
        "region__name",
        "unit__name",
        "availability",
        "political_status",
        "status",
        "star_level",
        "confirmed_minutes",
        "created_at",
    )
    genders = dict(Gender.choices)
    id_types = dict(IdType.choices)
    political = dict(PoliticalStatus.choices)
    statuses = dict(VolunteerStatus.choices)
    slots = dict(Availability.choices)
    skill_names = dict(Skill.objects.values_list("pk", "name"))
    through = Volunteer.skills.through
    tz = timezone.get_current_timezone()

    ws = SheetWriter(SHEET_TITLE, EXPORT_HEADERS)
    count = 0

    def write(batch: list[tuple[Any, ...]]) -> None:
        skills: dict[int, list[str]] = {}
        for vid, sid in through.objects.filter(
            volunteer_id__in=[row[0] for row in batch]
        ).values_list("volunteer_id", "skill_id"):
            skills.setdefault(vid, []).append(skill_names.get(sid, ""))
        for row in batch:
            (pk, number, name, gender, id_type, id_masked, phone_masked, region, unit,
             availability, political_status, status, star, minutes, created) = row  # fmt: skip
            ws.append(
                [
                    number or "",
                    name,
                    str(genders.get(gender, "")),
                    str(id_types.get(id_type, "")),
                    id_masked,
                    phone_masked,
                    region,
                    unit,
                    "、".join(sorted(skills.get(pk, []))),
                    "、".join(str(slots.get(s, s)) for s in availability or []),
                    str(political.get(political_status, "")),
                    str(statuses.get(status, status)),
                    star,
                    round(minutes / 60, 1),
                    created.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                ]
            )

    batch: list[tuple[Any, ...]] = []
    for row in qs.iterator(chunk_size=2000):
        batch.append(row)
        if len(batch) >= 2000:
            write(batch)
            count += len(batch)
            batch = []
    if batch:
        write(batch)
        count += len(batch)
    ws.save(out)
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="volunteer.export",
            target=None,
            region_code=scope_code(actor, Perm.VOLUNTEER_VIEW),
            changes={"rows": count, "filters": _audit_filters(filters)},
        )
    return count
