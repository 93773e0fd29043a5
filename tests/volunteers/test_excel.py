"""Excel in and out: the template round trip, the row report (exact rows, columns and
messages), the two import modes, duplicates, numbers, masking in the export, who may do
what, job progress, and (on PostgreSQL) an import racing a single registration."""

from __future__ import annotations

import datetime as dt
import io
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.db import connection

from tests.volunteers.test_services import TODAY, id_number, register
from wenming.core import crypto
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.excel import WorkbookError
from wenming.core.jobs import job_create, upload_path, upload_save
from wenming.core.models import AuditEvent, Job
from wenming.volunteers import excel, services, tasks
from wenming.volunteers.models import RegistrationPolicy, Skill, Volunteer, VolunteerStatus

VILLAGE = "320305005204"
VILLAGE2 = "320305005200"
OUT_OF_SCOPE = "320311001001"  # 王陵社区 in the other county


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "李四",
        "phone": "13912340001",
        "id_type": "居民身份证",
        "id_number": id_number(seq="201"),
        "region": f"马庄村委会（{VILLAGE}）",
        "skills": "",
        "availability": "周末白天",
        "political_status": "群众",
        "consent": "是",
    }
    values.update(overrides)
    return values


def workbook(rows: list[dict[str, Any]], *, header: list[str] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = excel.SHEET_TITLE
    ws.append(header or [c.marked for c in excel.COLUMNS])
    for values in rows:
        ws.append([values.get(c.key, "") for c in excel.COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def save(tmp_path: Path, data: bytes, name: str = "in.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def check(actor: Any, tmp_path: Path, rows: list[dict[str, Any]]) -> excel.CheckResult:
    return excel.check_workbook(actor=actor, path=save(tmp_path, workbook(rows)), today=TODAY)


def report(result: excel.CheckResult) -> list[tuple[int, str, str]]:
    return [tuple(e) for e in result.as_dict(sha256="")["errors"]]  # type: ignore[misc]


def check_job(actor: Any, result: excel.CheckResult) -> Job:
    job = job_create(actor=actor, kind=excel.KIND_CHECK, region_code="320305000000")
    Job.objects.filter(pk=job.pk).update(status="succeeded", result=result.as_dict(sha256="x"))
    job.refresh_from_db()
    return job


@pytest.fixture
def skills(db) -> dict[str, Skill]:
    return {s.name: s for s in Skill.objects.all()}


# ---------------------------------------------------------------- template


def test_template_filled_with_its_sample_row_checks_clean(cast, skills, tmp_path):
    data = excel.template_workbook(actor=cast.county_admin)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:2] == [excel.SHEET_TITLE, excel.CHOICES_TITLE]
    ws = wb[excel.SHEET_TITLE]
    assert [c.value for c in ws[1]] == [c.marked for c in excel.COLUMNS]
    sample = [c.value for c in ws[2]]
    assert sample[excel.COLUMN_INDEX["consent"]] == "是"
    # The allowed values: ID types, skills, the villages of the actor's scope.
    choices = [[c.value for c in col] for col in wb[excel.CHOICES_TITLE].iter_cols()]
    assert "居民身份证" in choices[0]
    assert set(skills) <= set(choices[3])
    villages = choices[6]
    assert f"潘安湖街道·马庄村委会（{VILLAGE}）" in villages
    assert not any(OUT_OF_SCOPE in (v or "") for v in villages)
    assert ws.data_validations.dataValidation  # drop-downs

    result = excel.check_workbook(actor=cast.county_admin, path=save(tmp_path, data), today=TODAY)
    assert (result.rows, result.valid, report(result)) == (1, 1, [])
    assert Volunteer.objects.count() == 0


def test_template_is_for_managers_only(cast):
    with pytest.raises(Forbidden):
        excel.template_workbook(actor=cast.supervisor)
    with pytest.raises(NotFound):
        excel.template_workbook(actor=cast.volunteer)


# ---------------------------------------------------------------- the report


def test_broken_rows_give_exactly_the_expected_report_and_write_nothing(cast, skills, tmp_path):
    registered = register(cast.county_admin, 7)  # its ID is "already registered"
    bad_checksum = id_number(seq="202")
    bad_checksum = bad_checksum[:-1] + ("0" if bad_checksum[-1] != "0" else "1")
    minor = id_number(birth="20120101", seq="203")
    rows = [
        row(),  # 2: fine
        row(id_number=bad_checksum, phone="13912340002"),  # 3
        row(id_number=id_number(birth="19900230", seq="213"), phone="13912340003"),  # 4
        row(id_number=id_number(seq="204"), phone="13912340004"),  # 5: first of a pair
        row(id_number=id_number(seq="204"), phone="13912340005"),  # 6: same ID as 5
        row(id_number=id_number(seq="007"), phone="13912340006"),  # 7: registered
        row(id_number=id_number(seq="208"), phone="13912340008", region=OUT_OF_SCOPE),  # 8
        row(id_number=id_number(seq="209"), phone="13912340009", consent=""),  # 9
        row(id_number=minor, phone="13912340010"),  # 10: minor, no guardian
        row(id_number=id_number(seq="211"), phone="1391234"),  # 11: bad phone
        row(id_number=id_number(seq="212"), phone="13912340012", skills="驾驶、理论宣讲"),  # 12
    ]
    assert registered.id_digest == crypto.digest(id_number(seq="007"))
    before = (Volunteer.objects.count(), AuditEvent.objects.count())
    result = check(cast.county_admin, tmp_path, rows)
    assert report(result) == [
        (3, "id_number", "身份证号码校验位不正确，请核对最后一位。"),
        (4, "id_number", "身份证号码中的出生日期或格式不正确。"),
        (5, "id_number", "与第 6 行的证件号码重复。"),
        (6, "id_number", "与第 5 行的证件号码重复。"),
        (7, "id_number", "该证件号码已经注册过志愿者。"),
        (8, "region", "该村（社区）不在您的管辖范围内。"),
        (9, "consent", "须经本人同意方可登记（《志愿服务条例》第二十条），请在该列填「是」。"),
        (10, "guardian_name", "未满 18 周岁，请填写监护人姓名。"),
        (10, "guardian_phone", "请填写手机号码。"),
        (10, "guardian_consent", "未满 18 周岁，需要监护人同意后才能注册。"),
        (11, "phone", "手机号码格式不正确。"),
        (12, "skills", "技能「驾驶」不在可选范围内（见「可选值」表）。"),
    ]
    assert (result.rows, result.valid) == (11, 1)
    assert (Volunteer.objects.count(), AuditEvent.objects.count()) == before


def test_minor_with_guardian_is_valid_and_other_formats(cast, skills, tmp_path):
    rows = [
        row(
            id_number=id_number(birth="20120101", seq="301"),
            guardian_name="王监护",
            guardian_phone="13912349999",
            guardian_consent="是",
        ),
        row(
            id_number="E12345678",
            id_type="护照",
            phone="13912340302",
            birth_date=dt.datetime(1980, 5, 6),
            gender="女",
            region=VILLAGE2,  # a bare code
            skills="理论宣讲、助老助残",
        ),
        row(id_number="E99999999", id_type="护照", phone="13912340303", birth_date="1980/13/01"),
    ]
    result = check(cast.county_admin, tmp_path, rows)
    assert report(result) == [
        (4, "birth_date", "出生日期格式不正确，请填写如 1990-01-31。"),
        (4, "gender", "请选择性别。"),
    ]


def test_duplicate_phone_in_the_file_and_registered(cast, skills, tmp_path):
    register(cast.county_admin, 8)  # phone 13712340008
    rows = [
        row(),
        row(id_number=id_number(seq="402"), phone="13912340001"),
        row(id_number=id_number(seq="403"), phone="13712340008"),
    ]
    assert report(check(cast.county_admin, tmp_path, rows)) == [
        (2, "phone", "与第 3 行的手机号码重复。"),
        (3, "phone", "与第 2 行的手机号码重复。"),
        (4, "phone", "该手机号码已经注册过志愿者。"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "无法读取该文件"),
        (None, "表头缺少必填的列：「手机号码」"),
        (b"", "文件里没有数据行"),
    ],
)
def test_unreadable_wrong_header_or_empty_files(cast, tmp_path, data, message):
    if data is None:
        header = [c.marked for c in excel.COLUMNS]
        header[1] = "电话"
        data = workbook([row()], header=header)
    elif data == b"":
        data = workbook([])
    path = save(tmp_path, data)
    with pytest.raises(WorkbookError) as exc:
        excel.workbook_precheck(path)
    assert message in exc.value.message


def test_columns_are_matched_by_header_in_any_order(cast, tmp_path):
    """A county's own sheet: columns moved about, optional ones left out, an extra
    column of its own; every row still reads right."""
    keep = [c for c in excel.COLUMNS if c.required or c.key == "skills"][::-1]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["备注", *[c.marked for c in keep]])
    data = row(name="倒序", skills="理论宣讲")
    ws.append(["自己的备注", *[data.get(c.key, "") for c in keep]])
    out = io.BytesIO()
    wb.save(out)
    path = save(tmp_path, out.getvalue())
    assert excel.workbook_precheck(path) == 1
    result = excel.check_workbook(actor=cast.county_admin, path=path, today=TODAY)
    assert report(result) == [] and result.rows == 1


def test_a_header_given_twice_is_refused(cast, tmp_path):
    header = [c.marked for c in excel.COLUMNS] + ["姓名"]
    path = save(tmp_path, workbook([row()], header=header))
    with pytest.raises(WorkbookError) as exc:
        excel.workbook_precheck(path)
    assert exc.value.message == "表头「姓名」出现了 2 次，请只保留一列。"


# ---------------------------------------------------------------- importing


def _good_rows(n: int, start: int = 500) -> list[dict[str, Any]]:
    return [
        row(
            name=f"导入{i}",
            id_number=id_number(seq=f"{start + i:03d}"),
            phone=f"139{start + i:08d}",
            skills="理论宣讲" if i % 2 else "",
            service_regions=VILLAGE2 if i % 3 == 0 else "",
        )
        for i in range(n)
    ]


def test_mode_all_with_one_bad_row_writes_nothing(cast, skills, tmp_path):
    rows = _good_rows(3)
    rows.append(row(id_number="123", phone="13900009999"))
    result = check(cast.county_admin, tmp_path, rows)
    job = check_job(cast.county_admin, result)
    before = (Volunteer.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuleViolation, match="有错则一行也不导入"):
        excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_ALL)
    assert (Volunteer.objects.count(), AuditEvent.objects.count()) == before


def test_mode_valid_writes_exactly_the_good_rows_with_numbers(cast, skills, tmp_path):
    RegistrationPolicy.objects.create(unit=cast_station(cast), approval_required=True)
    rows = _good_rows(4)
    rows.insert(2, row(id_number="123", phone="13900009999"))
    result = check(cast.county_admin, tmp_path, rows)
    job = check_job(cast.county_admin, result)
    applied = excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_VALID)
    assert (applied.imported, applied.skipped) == (4, [])
    imported = list(Volunteer.objects.order_by("pk"))
    assert [v.name for v in imported] == ["导入0", "导入1", "导入2", "导入3"]
    for v in imported:
        assert v.number == f"320305{v.pk:08d}"
        assert v.unit.region_id == VILLAGE
        assert v.status == VolunteerStatus.PENDING  # the station's policy
        assert v.phone_masked.startswith("139") and "*" in v.phone_masked
        assert crypto.decrypt(v.id_cipher) == id_number(seq=f"{500 + imported.index(v):03d}")
    assert [sorted(s.name for s in v.skills.all()) for v in imported] == [
        [],
        ["理论宣讲"],
        [],
        ["理论宣讲"],
    ]
    assert [list(v.service_regions.values_list("code", flat=True)) for v in imported] == [
        [VILLAGE2],
        [],
        [],
        [VILLAGE2],
    ]
    event = AuditEvent.objects.get(verb="volunteer.import")
    assert event.changes["imported"] == 4 and event.changes["mode"] == "valid"
    blob = str(event.changes) + event.target_label + event.note
    assert "139" not in blob and "320305199" not in blob
    # Never twice: the same check cannot be imported again.
    with pytest.raises(RuleViolation, match="已经导入过"):
        excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_VALID)
    assert Volunteer.objects.count() == 4


def cast_station(cast: Any) -> Any:
    from wenming.network.models import Unit

    return Unit.objects.get(region_id=VILLAGE, kind="station")


def test_registration_between_check_and_import(cast, skills, tmp_path):
    rows = _good_rows(3)
    job = check_job(cast.county_admin, check(cast.county_admin, tmp_path, rows))
    services.volunteer_register(
        actor=cast.county_admin,
        data=services.RegistrationInput(
            name="抢先",
            phone="13800001111",
            id_type="ric",
            id_number=id_number(seq="501"),
            region_code=VILLAGE,
            consent=True,
        ),
        self_service=False,
        today=TODAY,
    )
    with pytest.raises(RuleViolation, match="第 3 行"):
        excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_ALL)
    assert Volunteer.objects.count() == 1
    applied = excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_VALID)
    assert applied.imported == 2
    assert [e.as_list() for e in applied.skipped] == [
        [3, "id_number", "检查之后，该证件号码已被登记为志愿者。"]
    ]
    assert Volunteer.objects.filter(id_digest=crypto.digest(id_number(seq="501"))).count() == 1


def test_supervisor_and_outsider_cannot_import(cast, skills, tmp_path):
    path = save(tmp_path, workbook([row()]))
    with pytest.raises(Forbidden):
        excel.check_workbook(actor=cast.supervisor, path=path, today=TODAY)
    with pytest.raises(NotFound):
        excel.check_workbook(actor=cast.volunteer, path=path, today=TODAY)
    # The outsider (another county's admin) sees our village as out of scope.
    result = excel.check_workbook(actor=cast.outsider, path=path, today=TODAY)
    assert report(result) == [(2, "region", "该村（社区）不在您的管辖范围内。")]
    job = check_job(cast.county_admin, check(cast.county_admin, tmp_path, [row()]))
    with pytest.raises(Forbidden):
        excel.import_apply(actor=cast.supervisor, check_job=job, mode=excel.MODE_VALID)
    assert Volunteer.objects.count() == 0


# ---------------------------------------------------------------- jobs


def test_job_runs_through_the_task_with_progress(cast, skills, tmp_path):
    token, sha, _size = upload_save([workbook(_good_rows(30))])
    job = job_create(
        actor=cast.county_admin,
        kind=excel.KIND_CHECK,
        region_code="320305000000",
        total=30,
        params={"upload": token, "sha256": sha},
    )
    seen: list[int] = []
    real = tasks.JobProgress.__call__

    def spy(self: Any, done: int) -> None:
        seen.append(done)
        real(self, done)

    with mock.patch.object(tasks.JobProgress, "__call__", spy):
        tasks.volunteers_import_check(job.pk)  # Huey runs it at once in tests
    job.refresh_from_db()
    assert (job.status, job.error, job.done, job.total, job.percent) == (
        "succeeded",
        "",
        30,
        30,
        100,
    )
    assert seen == list(range(1, 31))
    assert not upload_path(token).exists()  # the workbook is gone once checked
    assert job.result["valid"] == 30 and upload_path(job.result["cleaned"]).exists()

    apply_job = job_create(
        actor=cast.county_admin,
        kind=excel.KIND_APPLY,
        total=30,
        params={"check_job": job.pk, "mode": "all"},
    )
    tasks.volunteers_import_apply(apply_job.pk)
    apply_job.refresh_from_db()
    assert (apply_job.status, apply_job.done, apply_job.result["imported"]) == (
        "succeeded",
        30,
        30,
    )
    assert Volunteer.objects.count() == 30
    assert not upload_path(job.result["cleaned"]).exists()


def test_failed_check_job_says_why(cast, tmp_path):
    token, sha, _size = upload_save([b"junk"])
    job = job_create(
        actor=cast.county_admin, kind=excel.KIND_CHECK, params={"upload": token, "sha256": sha}
    )
    tasks.run_check(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "无法读取该文件" in job.error
    assert not upload_path(token).exists()


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("who", ["county_admin", "station_admin", "supervisor", "team_leader"])
def test_export_is_masked_and_scoped(cast, skills, who):
    mine = register(cast.county_admin, 1)
    other = register(cast.county_admin, 2, region_code="320305102200")
    actor = getattr(cast, who)
    out = io.BytesIO()
    count = excel.export_workbook(
        actor=actor,
        filters={"search": "", "region_prefix": "", "status": "", "skill_id": None, "star": None},
        out=out,
    )
    data = out.getvalue()
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wide = who in ("county_admin", "supervisor")
    expected = {mine.number, other.number} if wide else {mine.number}
    assert count == len(expected) and {r[0] for r in rows[1:]} == expected
    text = "\n".join(str(v) for r in rows for v in r)
    for v in (mine, other):
        assert crypto.decrypt(v.id_cipher) not in text
        assert crypto.decrypt(v.phone_cipher) not in text
    assert mine.id_masked in text
    # The raw numbers are not in the file's bytes either (shared strings unzipped).
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        raw = b"".join(zf.read(n) for n in zf.namelist())
    for v in (mine, other):
        assert crypto.decrypt(v.id_cipher).encode() not in raw
        assert crypto.decrypt(v.phone_cipher).encode() not in raw
    event = AuditEvent.objects.get(verb="volunteer.export")
    assert event.actor_id == actor.pk and event.changes["rows"] == count


def test_export_audit_masks_a_searched_phone(cast, skills):
    register(cast.county_admin, 1)
    excel.export_workbook(
        actor=cast.county_admin,
        filters={
            "search": "13712340001",
            "region_prefix": "",
            "status": "",
            "skill_id": None,
            "star": None,
        },
        out=io.BytesIO(),
    )
    event = AuditEvent.objects.get(verb="volunteer.export")
    assert event.changes == {"rows": 1, "filters": {"search": "137****0001"}}


def test_outsider_export_is_empty_and_volunteer_refused(cast, skills):
    register(cast.county_admin, 1)
    out = io.BytesIO()
    assert excel.export_workbook(actor=cast.outsider, filters={}, out=out) == 0
    with pytest.raises(Forbidden):
        excel.export_workbook(actor=cast.volunteer, filters={}, out=io.BytesIO())


# ---------------------------------------------------------------- PostgreSQL race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_import_racing_a_registration_registers_the_id_once(cast, skills, tmp_path):
    """The import has checked its duplicates and is about to insert when a single
    registration of the same ID commits: the unique keyed hash refuses one of them,
    the import rolls back whole, and the ID is registered exactly once."""
    assert connection.vendor == "postgresql"
    Skill.objects.get_or_create(name="理论宣讲")
    rows = _good_rows(3)
    job = check_job(cast.county_admin, check(cast.county_admin, tmp_path, rows))
    contested = id_number(seq="501")
    checked = threading.Event()
    registered = threading.Event()
    outcome: dict[str, Any] = {}
    real_bulk_create = Volunteer.objects.bulk_create

    def slow_bulk_create(objs: Any, *args: Any, **kwargs: Any) -> Any:
        checked.set()  # duplicates checked: let the registration in now
        registered.wait(10)
        return real_bulk_create(objs, *args, **kwargs)

    def registration() -> None:
        checked.wait(10)
        try:
            services.volunteer_register(
                actor=cast.county_admin,
                data=services.RegistrationInput(
                    name="抢先",
                    phone="13800001111",
                    id_type="ric",
                    id_number=contested,
                    region_code=VILLAGE,
                    consent=True,
                ),
                self_service=False,
                today=TODAY,
            )
            outcome["registration"] = "ok"
        except RuleViolation as exc:
            outcome["registration"] = exc.message
        finally:
            registered.set()
            connection.close()

    thread = threading.Thread(target=registration)
    thread.start()
    with mock.patch.object(Volunteer.objects, "bulk_create", slow_bulk_create):
        try:
            excel.import_apply(actor=cast.county_admin, check_job=job, mode=excel.MODE_ALL)
            outcome["import"] = "ok"
        except RuleViolation as exc:
            outcome["import"] = exc.code
    thread.join(20)
    assert Volunteer.objects.filter(id_digest=crypto.digest(contested)).count() == 1
    # The registration's INSERT waited for nobody (the import had not inserted yet), so
    # it won; the import's INSERT met the unique hash and rolled back whole.
    assert outcome == {"registration": "ok", "import": excel.IMPORT_RACE}
    assert Volunteer.objects.count() == 1
    assert not AuditEvent.objects.filter(verb="volunteer.import").exists()
