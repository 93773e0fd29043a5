"""Excel import and export of the household register.

Import: one row per household (village code, address, tags, the head and up to three
more members). The file is stored, a background Job checks every row and, when no row
has an error, creates every household in one transaction through `household_create`
(all or nothing: a row report lists what to fix). Export: the households in scope that
match the list's filters, masked, streamed as a workbook; audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor
from wenming.core.access import has_perm
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.excel import (
    Column,
    RowError,
    SheetWriter,
    cell_int,
    cell_text,
    read_rows,
    sheet_precheck,
)
from wenming.core.jobs import JobProgress
from wenming.core.roles import Perm
from wenming.households import selectors, services
from wenming.households.models import CareTag, Relation

KIND_IMPORT = "households.import"
MAX_ROWS = 20_000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
EXTRA_MEMBERS = 3
INLINE_MAX_BYTES = 200_000  # smaller uploads are imported during the request

AUDIT_VERBS = {
    "household.import": pgettext_lazy("audit verb", "批量导入家庭户"),
    "household.export": pgettext_lazy("audit verb", "导出家庭户"),
}


def _columns() -> tuple[Column, ...]:
    cols = [
        Column("region", _("村（社区）代码"), True),
        Column("address", _("地址"), True),
        Column("tags", _("关爱标签")),
        Column("head_name", _("户主姓名"), True),
        Column("head_phone", _("户主手机号码")),
        Column("head_birth_year", _("户主出生年份")),
    ]
    for n in range(1, EXTRA_MEMBERS + 1):
        cols += [
            Column(f"m{n}_name", _("成员%(n)s姓名") % {"n": n}),
            Column(f"m{n}_relation", _("成员%(n)s关系") % {"n": n}),
            Column(f"m{n}_birth_year", _("成员%(n)s出生年份") % {"n": n}),
            Column(f"m{n}_phone", _("成员%(n)s手机号码") % {"n": n}),
        ]
    return tuple(cols)


def headers() -> list[str]:
    return [str(c.header) for c in _columns()]


def template_workbook(out: Any) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("家庭户")
    ws.append(headers())
    ws.append(
        [
            *("320305005204", "马庄村 3 组 8 号", "空巢老人"),
            *("张老汉", "13512345678", 1942),
            *("李桂英", "配偶", 1945, ""),
        ]
    )
    notes = wb.create_sheet(_("填写说明"))
    notes.append([_("关爱标签可填多个，用顿号或逗号分隔：")])
    notes.append(["、".join(t.name for t in CareTag.objects.all())])
    notes.append([_("成员关系可填：")])
    notes.append(["、".join(str(label) for _v, label in Relation.choices if _v != "head")])
    wb.save(out)


@dataclass
class CheckResult:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    inputs: list[services.HouseholdInput] = field(default_factory=list)


def _year(value: Any) -> int | None:
    try:
        return cell_int(value, digits=4)
    except ValueError:
        raise RuleViolation(_("出生年份应为四位数字。")) from None


def check_workbook(
    *,
    actor: Actor,
    path: Any,
    today: dt.date | None = None,
    progress: JobProgress | None = None,
) -> CheckResult:
    """Check every row without writing; collect the problems of each row."""
    today = today or timezone.localdate()
    tags = {}
    for tag in CareTag.objects.all():  # a tag may be written by its name or its code
        tags[tag.name] = tags[tag.code] = tag.code
    relations = {str(label): value for value, label in Relation.choices}
    villages = dict(selectors.manageable_villages(actor))
    result = CheckResult()
    path = Path(path)
    # The declared size first (a file too big is refused before any row is read), then
    # the rows, streamed, with the cap checked again as they come.
    total = sheet_precheck(path, _columns(), max_rows=MAX_ROWS)
    if progress is not None:
        progress.begin(total)
    cols = headers()
    for index, values in read_rows(path, _columns(), max_rows=MAX_ROWS):
        if progress is not None:
            progress(result.rows)
        result.rows += 1
        before = len(result.errors)

        def err(col: int, message: str, *, at: int = index) -> None:
            result.errors.append(RowError(at, cols[col], message))

        code = cell_text(values[0])
        if code not in villages:
            err(0, _("不是您管理的村（社区）代码。"))
        address = cell_text(values[1])
        if not address:
            err(1, _("请填写地址。"))
        tag_codes = []
        for name in cell_text(values[2]).replace("，", "、").replace(",", "、").split("、"):
            name = name.strip()
            if not name:
                continue
            if name not in tags:
                err(2, _("没有这个关爱标签：%(tag)s") % {"tag": name})
            else:
                tag_codes.append(tags[name])
        members: list[services.MemberInput] = []
        groups = [(3, Relation.HEAD.value)] + [
            (6 + 4 * (n - 1), "") for n in range(1, EXTRA_MEMBERS + 1)
        ]
        for offset, fixed_relation in groups:
            if fixed_relation:
                name, phone, year = values[offset], values[offset + 1], values[offset + 2]
                relation = fixed_relation
            else:
                name, rel, year, phone = (
                    values[offset],
                    values[offset + 1],
                    values[offset + 2],
                    values[offset + 3],
                )
                if not cell_text(name):
                    continue
                relation = relations.get(cell_text(rel), "")
                if not relation or relation == Relation.HEAD:
                    err(offset + 1, _("关系不正确。"))
                    continue
            if not cell_text(name):
                err(offset, _("请填写户主姓名。"))
                continue
            member = services.MemberInput(cell_text(name), relation, None, cell_text(phone))
            try:
                member.birth_year = _year(year)
                services.clean_member(member, today)
            except RuleViolation as exc:
                err(offset, exc.message)
                continue
            members.append(member)
        if len(result.errors) == before:
            result.inputs.append(
                services.HouseholdInput(
                    region_code=code, address=address, tag_codes=tag_codes, members=members
                )
            )
    return result


@transaction.atomic
def import_apply(*, actor: Actor, inputs: list[services.HouseholdInput]) -> int:
    """Create every household of a checked file in one transaction (all or nothing)."""
    for data in inputs:
        services.household_create(actor=actor, data=data)
    audit_record(
        actor=actor,
        verb="household.import",
        target=None,
        region_code="",
        changes={"households": len(inputs)},
    )
    return len(inputs)


def export_workbook(*, actor: Actor, filters: dict[str, Any], out: Any) -> int:
    """The households in scope matching the list's filters (masked), as a workbook."""
    if not has_perm(actor, Perm.HOUSEHOLD_VIEW):
        raise Forbidden(_("您没有查看十必联登记的权限。"))
    ws = SheetWriter(
        _("家庭户"),
        [
            _("编号"),
            _("村（社区）"),
            _("地址"),
            _("户主"),
            _("关爱标签"),
            _("成员（脱敏）"),
            _("联系人"),
            _("最近联系"),
            _("在册"),
        ],
    )
    count = 0
    qs = selectors.household_list(actor=actor, **filters).prefetch_related("members")
    for h in qs.iterator(chunk_size=500):
        last = (
            timezone.localtime(h.last_contact_at).strftime("%Y-%m-%d") if h.last_contact_at else ""
        )
        ws.append(
            [
                h.pk,
                h.region.name,
                h.address,
                h.head_masked,
                "、".join(t.name for t in h.tags.all()),
                "、".join(
                    f"{m.name_masked}（{m.get_relation_display()}）{m.phone_masked}"
                    for m in h.members.all()
                ),
                "、".join(
                    f"{a.contact.name}（{a.get_kind_display()}）"
                    for a in getattr(h, "open_assignments", [])
                ),
                last,
                _("是") if h.is_active else _("否"),
            ]
        )
        count += 1
    ws.save(out)
    with transaction.atomic():
        audit_record(
            actor=actor,
            verb="household.export",
            target=None,
            region_code="",
            changes={"rows": count, "filters": {k: v for k, v in filters.items() if v}},
        )
    return count
