"""Checking every row of an upload against the registration rules, in batches, without
writing: the valid rows go to a side file for the import, the others to the row report."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core import regions as rc
from wenming.core.errors import RuleViolation
from wenming.core.excel import (
    RowError,
    WorkbookError,
    cell_date,
    cell_text,
    cell_tokens,
    cell_yes,
    header_key,
    read_rows,
)
from wenming.core.jobs import UploadWriter, upload_delete
from wenming.network.models import Region
from wenming.volunteers.excel.template import (
    BATCH,
    COLUMN_INDEX,
    COLUMNS,
    FIELD_COLUMN,
    MAX_REPORTED_ERRORS,
    MAX_ROWS,
    SHEET_TITLE,
    _regions_in,
    _require_import,
    region_label,
)
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    PoliticalStatus,
    Skill,
    Volunteer,
)
from wenming.volunteers.services import RegistrationInput, RegistrationLookups, registration_clean

_CODE_RE = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


# ---------------------------------------------------------------- checking


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
    def load(cls, actor: Actor, today: dt.date) -> _Refs:
        prefixes = _require_import(actor)
        regions = {r.code: r for r in _regions_in(prefixes)}
        by_name: dict[str, str | None] = {}
        for region in regions.values():
            names = [region.name, region_label(region)]
            if region.parent is not None and region.level == rc.Level.VILLAGE:
                names.append(f"{region.parent.name}·{region.name}")
                names.append(f"{region.parent.name}{region.name}")
            for name in names:
                key = header_key(name)
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
        return self.by_name.get(header_key(text))

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

        id_type_text = cell_text(cell("id_type"))
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
            id_text = cell_text(raw_id)
        birth = None
        if cell_text(cell("birth_date")):
            try:
                birth = cell_date(cell("birth_date"))
            except ValueError:
                bad("birth_date", _("出生日期格式不正确，请填写如 1990-01-31。"))
        gender_text = cell_text(cell("gender"))
        gender = _GENDERS.get(gender_text.lower(), "") if gender_text else ""
        if gender_text and not gender:
            bad("gender", _("性别请填写「男」或「女」。"))
        region_text = cell_text(cell("region"))
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
        for name in cell_tokens(cell("skills")):
            skill = self.refs.skills.get(name)
            if skill is None:
                bad(
                    "skills",
                    _("技能「%(v)s」不在可选范围内（见「可选值」表）。") % {"v": name[:20]},
                )
            else:
                skill_ids.append(skill.pk)
        slots: list[str] = []
        for name in cell_tokens(cell("availability")):
            slot = self.availability.get(name)
            if slot is None:
                bad("availability", _("服务时间「%(v)s」不在可选范围内。") % {"v": name[:20]})
            else:
                slots.append(slot)
        service_codes: list[str] = []
        for token in cell_tokens(cell("service_regions")):
            code = self.refs.region_code(token)
            if code is None or self.refs.any_region(code) is None:
                bad("service_regions", _("找不到服务区域「%(v)s」。") % {"v": token[:40]})
            else:
                service_codes.append(code)
        political_text = cell_text(cell("political_status"))
        political = self.political.get(political_text, "") if political_text else ""
        if political_text and not political:
            bad(
                "political_status",
                _("政治面貌「%(v)s」不在可选范围内。") % {"v": political_text[:20]},
            )
        consent = cell_yes(cell("consent"))
        guardian_consent = cell_yes(cell("guardian_consent"))

        data = RegistrationInput(
            name=cell_text(cell("name")),
            phone=cell_text(cell("phone")),
            id_type=id_type or IdType.RIC,
            id_number=id_text,
            region_code=region_code,
            consent=bool(consent),
            skill_ids=sorted(set(skill_ids)),
            service_region_codes=sorted(set(service_codes)),
            availability=sorted(set(slots)),
            political_status=political,
            guardian_name=cell_text(cell("guardian_name")),
            guardian_phone=cell_text(cell("guardian_phone")),
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
    actor: Actor,
    path: Path,
    today: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> CheckResult:
    """Check every row of a workbook in the actor's scope; write nothing to the database.
    The valid rows go to a side file (see `_cleaned_record`) for the import."""
    refs = _Refs.load(actor, today or timezone.localdate())
    checker = RowChecker(refs)
    result = CheckResult()
    with UploadWriter() as cleaned:
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

        for row_no, cells in read_rows(path, COLUMNS, max_rows=MAX_ROWS, title=SHEET_TITLE):
            result.rows += 1
            parsed, errors = checker.parse(row_no, cells)
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
        raise WorkbookError(_("文件里没有数据行：请从第 2 行开始填写。"), code="no_rows")
    for row, errors in checker.first_dups.items():
        seen = {(e.column) for e in result.errors if e.row == row}
        for error in errors:
            if error.column not in seen:  # one message per cell is enough
                result.errors.append(error)
                seen.add(error.column)
        result.invalid_rows.add(row)
    result.valid = result.rows - len(result.invalid_rows)
    return result
