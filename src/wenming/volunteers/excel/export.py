"""The volunteers in scope matching the list's filters, masked, as a workbook; audited."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.access import has_perm
from wenming.core.audit import audit_record
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.roles import Perm
from wenming.volunteers.excel.check import _CODE_RE
from wenming.volunteers.excel.template import SHEET_TITLE, scope_code
from wenming.volunteers.models import (
    Availability,
    Gender,
    IdType,
    PoliticalStatus,
    Skill,
    Volunteer,
    VolunteerStatus,
)

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


def export_workbook(*, actor: Actor, filters: dict[str, Any], out: Any) -> int:
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
