"""Importing the checked rows: all of them or only the valid ones, in one transaction, with
progress."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core import regions as rc
from wenming.core.access import in_scope
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation
from wenming.core.excel import (
    RowError,
)
from wenming.core.jobs import upload_path
from wenming.core.models import Job
from wenming.core.roles import Perm
from wenming.network.models import Unit, UnitKind
from wenming.volunteers.excel.template import (
    BATCH,
    KIND_CHECK,
    MAX_REPORTED_ERRORS,
    MODE_ALL,
    MODE_VALID,
    _require_import,
)
from wenming.volunteers.models import (
    RegistrationPolicy,
    Volunteer,
    VolunteerStatus,
)

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
    actor: Actor,
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
