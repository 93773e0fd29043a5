"""The Excel pages: who may use them, the upload form's errors, the job page with its
htmx progress fragment, the report, the confirmation, the result, and the export."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from tests.volunteers.test_excel import VILLAGE, _good_rows, row, workbook
from tests.volunteers.test_services import id_number, register
from wenming.core import crypto
from wenming.core.jobs import job_create, job_start, uploads_dir
from wenming.core.models import AuditEvent, Job
from wenming.volunteers import excel
from wenming.volunteers.models import Volunteer

IMPORT = reverse("volunteers:excel_import")
TEMPLATE = reverse("volunteers:excel_template")
EXPORT = reverse("volunteers:excel_export")


def upload(client, data: bytes, name: str = "志愿者.xlsx"):
    f = io.BytesIO(data)
    f.name = name
    return client.post(IMPORT, {"file": f})


def state() -> tuple[int, int, int, int]:
    files = len(list(uploads_dir().iterdir()))
    return Volunteer.objects.count(), Job.objects.count(), AuditEvent.objects.count(), files


@pytest.mark.parametrize(
    ("who", "status"),
    [("county_admin", 200), ("station_admin", 200), ("supervisor", 403), ("volunteer", 404)],
)
def test_import_pages_are_for_managers(cast, login, who, status):
    client = login(getattr(cast, who))
    assert client.get(IMPORT).status_code == status
    assert client.get(TEMPLATE).status_code == status


def test_anonymous_is_sent_to_login(client, db):
    for url in (IMPORT, TEMPLATE, EXPORT):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_template_download(cast, login):
    response = login(cast.county_admin).get(TEMPLATE)
    assert response["Content-Type"] == excel_views_xlsx()
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[0] == "志愿者"


def excel_views_xlsx() -> str:
    from wenming.volunteers.excel.views import XLSX

    return XLSX


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"a,b\n", "志愿者.csv", "只能上传 Excel 文件（.xlsx）"),
        (b"", "志愿者.xlsx", "文件是空的。"),
        (b"PK not really", "志愿者.xlsx", "无法读取该文件"),
        ("header", "志愿者.xlsx", "表头缺少必填的列：「姓名」、「手机号码」"),
        ("empty", "志愿者.xlsx", "文件里没有数据行"),
    ],
)
def test_upload_errors_are_shown_on_the_form_and_nothing_is_kept(cast, login, data, name, message):
    if data == "header":
        data = workbook([row()], header=["名字"])
    elif data == "empty":
        data = workbook([])
    client = login(cast.county_admin)
    before = state()
    response = upload(client, data, name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert state() == before


def test_too_big(cast, login, monkeypatch):
    monkeypatch.setattr(excel, "MAX_UPLOAD_BYTES", 100)
    client = login(cast.county_admin)
    before = state()
    response = upload(client, workbook([row()]))
    assert "文件太大" in response.content.decode() and "最多 20 MB" in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("inline", [True, False])
def test_upload_report_confirm_import(cast, login, monkeypatch, inline):
    if not inline:  # a "large" file: the check and the import go to Huey (immediate here)
        monkeypatch.setattr(excel, "INLINE_MAX_ROWS", 1)
    client = login(cast.county_admin)
    rows = _good_rows(3)
    rows.append(row(id_number=id_number(seq="999"), phone="13900001234", consent="否"))
    response = upload(client, workbook(rows))
    assert response.status_code == 302
    job = Job.objects.get(kind=excel.KIND_CHECK)
    assert response["Location"] == reverse("volunteers:excel_job", args=[job.pk])
    assert job.params["name"] == "志愿者.xlsx"
    assert "志愿者" not in job.params["upload"]  # a random file name, not the user's

    page = client.get(response["Location"]).content.decode()
    assert 'id="count-valid">3<' in page and 'id="count-invalid">1<' in page
    assert "第二十条" in page and ">5<" in page  # row 5, its consent cell
    assert "全部导入（有错则不导入）" in page and "只导入无误的行" in page

    confirm = reverse("volunteers:excel_confirm", args=[job.pk])
    blocked = client.get(confirm + "?mode=all").content.decode()
    assert 'id="confirm-blocked"' in blocked and "confirm-form" not in blocked
    page = client.get(confirm + "?mode=valid").content.decode()
    assert "将导入 3 名志愿者" in page

    apply_url = reverse("volunteers:excel_apply", args=[job.pk])
    before = state()
    response = client.post(apply_url, {"mode": "all"})
    result_job = Job.objects.get(kind=excel.KIND_APPLY)
    assert result_job.status == "failed" and "有错则一行也不导入" in result_job.error
    assert Volunteer.objects.count() == before[0]
    result_job.delete()

    response = client.post(apply_url, {"mode": "valid"})
    result_job = Job.objects.get(kind=excel.KIND_APPLY)
    assert response["Location"] == reverse("volunteers:excel_job", args=[result_job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "已导入 3 名志愿者" in page
    assert Volunteer.objects.count() == 3
    assert set(Volunteer.objects.values_list("number", flat=True)) == {
        f"320305{pk:08d}" for pk in Volunteer.objects.values_list("pk", flat=True)
    }
    # Never twice.
    response = client.post(apply_url, {"mode": "valid"}, follow=True)
    assert "该文件已经导入过" in response.content.decode()
    assert Volunteer.objects.count() == 3


def test_report_is_paged(cast, login, monkeypatch):
    client = login(cast.county_admin)
    rows = [row(id_number="123", phone=f"139{i:08d}") for i in range(60)]
    upload(client, workbook(rows))
    job = Job.objects.get(kind=excel.KIND_CHECK)
    url = reverse("volunteers:excel_job", args=[job.pk])
    first = client.get(url).content.decode()
    assert first.count('class="text-danger"') == 50 and "第 1 / 2 页" in first
    second = client.get(url + "?page=2").content.decode()
    assert second.count('class="text-danger"') == 10 and ">61<" in second


def test_progress_fragment_polls_until_done(cast, login):
    client = login(cast.county_admin)
    job = job_create(actor=cast.county_admin, kind=excel.KIND_CHECK, total=200)
    job_start(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(done=50)
    url = reverse("volunteers:excel_job", args=[job.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="25"' in page
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="job-progress"') and "50 / 200" in body
    Job.objects.filter(pk=job.pk).update(status="failed", error="坏了")
    done = client.get(url, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Redirect"] == url
    page = client.get(url).content.decode()
    assert 'hx-trigger="every' not in page and "坏了" in page


@pytest.mark.parametrize("who", ["outsider", "institute_admin", "supervisor"])
def test_other_users_jobs_do_not_exist_for_them(cast, login, who):
    owner = login(cast.county_admin)
    upload(owner, workbook(_good_rows(2)))
    job = Job.objects.get(kind=excel.KIND_CHECK)
    client = login(getattr(cast, who))
    before = state()
    assert client.get(reverse("volunteers:excel_job", args=[job.pk])).status_code == 404
    response = client.post(reverse("volunteers:excel_apply", args=[job.pk]), {"mode": "valid"})
    # The supervisor is read-only (403 before anything is looked up); others: 404.
    assert response.status_code == (403 if who == "supervisor" else 404)
    assert state() == before


def test_supervisor_cannot_upload(cast, login):
    client = login(cast.supervisor)
    before = state()
    assert upload(client, workbook([row()])).status_code == 403
    assert state() == before


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("who", ["county_admin", "supervisor", "station_admin"])
def test_export_masked_with_filters(cast, login, who):
    a = register(cast.county_admin, 1)
    b = register(cast.county_admin, 2, name="另一个")
    client = login(getattr(cast, who))
    response = client.get(EXPORT + "?q=另一个&status=active")
    assert response.status_code == 200
    assert response["Content-Type"] == excel_views_xlsx()
    assert response["Cache-Control"] == "no-store"
    data = b"".join(response.streaming_content)
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    numbers = [r[0] for r in list(ws.iter_rows(values_only=True))[1:]]
    assert numbers == [b.number]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        raw = b"".join(zf.read(n) for n in zf.namelist())
    for v in (a, b):
        assert crypto.decrypt(v.id_cipher).encode() not in raw
        assert crypto.decrypt(v.phone_cipher).encode() not in raw
    event = AuditEvent.objects.get(verb="volunteer.export")
    assert event.changes == {"rows": 1, "filters": {"search": "另一个", "status": "active"}}
    assert event.verb_label == "导出志愿者"


def test_export_refused_without_view(cast, login):
    register(cast.county_admin, 1)
    client = login(cast.volunteer)
    before = AuditEvent.objects.count()
    assert client.get(EXPORT).status_code == 403
    assert AuditEvent.objects.count() == before


def test_outsider_exports_nothing_of_ours(cast, login):
    register(cast.county_admin, 1)
    response = login(cast.outsider).get(EXPORT + f"?region={VILLAGE}")
    data = b"".join(response.streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0].values)
    assert len(rows) == 1  # the header only
