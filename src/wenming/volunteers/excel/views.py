"""Pages of the Excel import and export: the import page (template download, upload),
the job page (progress bar polled by htmx, then the row report), the confirmation, the
result, and the export download."""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core.access import has_perm
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.forms import StyledFormMixin
from wenming.core.jobs import job_create, job_get, upload_delete, upload_path, upload_save
from wenming.core.models import Job, JobStatus
from wenming.core.paging import querystring_without_page
from wenming.core.roles import Perm
from wenming.volunteers import excel, tasks
from wenming.volunteers.forms import volunteer_filters

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_PAGE_SIZE = 50


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("填好的 Excel 文件（.xlsx）"),
        error_messages={
            "required": gettext_lazy("请选择要上传的文件。"),
            "empty": gettext_lazy("文件是空的。"),
            "invalid": gettext_lazy("没有收到文件，请重新选择。"),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _("只能上传 Excel 文件（.xlsx）。如果是 .xls 或 .csv，请在 Excel 中另存为 .xlsx。")
            )
        if upload.size == 0:
            raise forms.ValidationError(_("文件是空的。"))
        if upload.size > excel.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件太大（%(size)s MB），每个文件最多 20 MB，请分成几个文件。")
                % {"size": f"{upload.size / 1024 / 1024:.1f}"}
            )
        return upload


def _require_manage(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.VOLUNTEER_MANAGE):
        if has_perm(request.user, Perm.VOLUNTEER_VIEW):
            raise Forbidden(_("您没有导入志愿者的权限。"))
        from wenming.core.errors import NotFound

        raise NotFound(_("找不到该页面。"))


@login_required
@require_GET
def excel_template(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    response = HttpResponse(excel.template_workbook(actor=request.user), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''volunteer-import-template.xlsx"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def excel_import(request: HttpRequest) -> HttpResponse:
    """Upload a filled template; small files are checked right away, larger ones by a
    background job. Either way the next page is the job's."""
    _require_manage(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token, sha256, _size = upload_save(upload.chunks())
        try:
            declared = excel.workbook_precheck(upload_path(token))
        except RuleViolation as exc:
            upload_delete(token)
            form.add_error("file", exc.message)
        else:
            job = job_create(
                actor=request.user,
                kind=excel.KIND_CHECK,
                region_code=excel.scope_code(request.user),
                total=declared,
                params={"upload": token, "sha256": sha256, "name": upload.name[-100:]},
            )
            if declared <= excel.INLINE_MAX_ROWS:
                tasks.run_check(job.pk)
            else:
                tasks.volunteers_import_check(job.pk)
            return redirect("volunteers:excel_job", job_id=job.pk)
    recent = Job.objects.filter(
        actor_id=request.user.pk, kind__in=[excel.KIND_CHECK, excel.KIND_APPLY]
    ).order_by("-created_at")[:5]
    return render(
        request,
        "volunteers/excel/import.html",
        {"form": form, "recent": recent, "max_rows": excel.MAX_ROWS},
    )


def _job(request: HttpRequest, job_id: int) -> Job:
    return job_get(actor=request.user, job_id=job_id, kinds=[excel.KIND_CHECK, excel.KIND_APPLY])


def _report_rows(entries: list[list[Any]]) -> list[dict[str, Any]]:
    return [{"row": r, "column": excel.column_label(c), "message": m} for r, c, m in entries]


@login_required
@require_GET
def excel_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job: a progress bar while it runs (htmx polls the fragment every second and
    is sent to the full page when it is done), then the report or the result."""
    job = _job(request, job_id)
    if request.headers.get("HX-Request"):
        if job.finished:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("volunteers:excel_job", args=[job.pk])
            return response
        return render(request, "volunteers/excel/partials/progress.html", {"job": job})
    context: dict[str, Any] = {"job": job}
    if job.status == JobStatus.SUCCEEDED and job.kind in (excel.KIND_CHECK, excel.KIND_APPLY):
        # A check reports its errors; an apply reports the rows it had to skip.
        is_check = job.kind == excel.KIND_CHECK
        rows = job.result.get("errors" if is_check else "skipped", [])
        page = Paginator(rows, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            report=_report_rows(list(page)),
            page=page,
            qs=querystring_without_page(request),
            r=job.result,
        )
        if is_check:
            context["applied"] = job.result.get("applied")
    return render(request, "volunteers/excel/job.html", context)


def _mode(raw: str | None) -> str:
    if raw not in (excel.MODE_ALL, excel.MODE_VALID):
        raise RuleViolation(_("请选择导入方式。"))
    return raw


@login_required
@require_GET
def excel_confirm(request: HttpRequest, job_id: int) -> HttpResponse:
    """One more look before writing: how many rows will be imported, and how."""
    _require_manage(request)
    job = job_get(actor=request.user, job_id=job_id, kinds=[excel.KIND_CHECK])
    if job.status != JobStatus.SUCCEEDED:
        return redirect("volunteers:excel_job", job_id=job.pk)
    mode = _mode(request.GET.get("mode"))
    r = job.result
    blocked = mode == excel.MODE_ALL and r.get("invalid", 0) > 0
    will = r.get("rows", 0) if mode == excel.MODE_ALL else r.get("valid", 0)
    return render(
        request,
        "volunteers/excel/confirm.html",
        {"job": job, "mode": mode, "r": r, "blocked": blocked, "will": will},
    )


@login_required
@require_POST
def excel_apply(request: HttpRequest, job_id: int) -> HttpResponse:
    _require_manage(request)
    check_job = job_get(actor=request.user, job_id=job_id, kinds=[excel.KIND_CHECK])
    mode = _mode(request.POST.get("mode"))
    if check_job.status != JobStatus.SUCCEEDED:
        return redirect("volunteers:excel_job", job_id=check_job.pk)
    if check_job.result.get("applied"):
        messages.error(request, _("该文件已经导入过，不会重复导入。"))
        return redirect("volunteers:excel_job", job_id=check_job.pk)
    r = check_job.result
    rows = r.get("valid", 0)
    job = job_create(
        actor=request.user,
        kind=excel.KIND_APPLY,
        region_code=check_job.region_code,
        total=r.get("rows", 0) - len(r.get("invalid_rows", [])),
        params={"check_job": check_job.pk, "mode": mode, "name": check_job.params.get("name")},
    )
    if rows <= excel.INLINE_MAX_ROWS:
        tasks.run_apply(job.pk)
    else:
        tasks.volunteers_import_apply(job.pk)
    return redirect("volunteers:excel_job", job_id=job.pk)


def export_filters(request: HttpRequest) -> dict[str, Any]:
    """The list page's filters, parsed the way the list page parses them."""
    return volunteer_filters(request.GET)._asdict()


@login_required
@require_GET
def excel_export(request: HttpRequest) -> FileResponse:
    """The volunteers in scope matching the list's filters, masked, as a workbook."""
    if not has_perm(request.user, Perm.VOLUNTEER_VIEW):
        raise Forbidden(_("您没有查看志愿者的权限。"))
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    excel.export_workbook(actor=request.user, filters=export_filters(request), out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(out, content_type=XLSX, as_attachment=True)
    response["Content-Disposition"] = f"attachment; filename=volunteers-{stamp}.xlsx"
    response["Cache-Control"] = "no-store"
    return response
