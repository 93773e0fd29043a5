"""Pages of the household Excel import (template, upload, job report) and export."""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from wenming.core.access import has_perm
from wenming.core.errors import Forbidden
from wenming.core.forms import StyledFormMixin
from wenming.core.jobs import job_create, job_get, upload_save
from wenming.core.roles import Perm
from wenming.households import excel, tasks

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("填好的 Excel 文件（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("只能上传 Excel 文件（.xlsx）。"))
        if upload.size > excel.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件太大，每个文件最多 20 MB。"))
        return upload


def _require_manage(request: HttpRequest) -> None:
    if not has_perm(request.user, Perm.HOUSEHOLD_MANAGE):
        raise Forbidden(_("您没有登记家庭户的权限。"))


@login_required
@require_GET
def excel_template(request: HttpRequest) -> FileResponse:
    _require_manage(request)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    excel.template_workbook(out)
    out.seek(0)
    response = FileResponse(out, content_type=XLSX, as_attachment=True)
    response["Content-Disposition"] = "attachment; filename=households-template.xlsx"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def excel_import(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        token, sha256, size = upload_save(upload.chunks())
        job = job_create(
            actor=request.user,
            kind=excel.KIND_IMPORT,
            params={"upload": token, "sha256": sha256, "name": upload.name[:200], "size": size},
        )
        if size <= excel.INLINE_MAX_BYTES:  # a small file: done before the page comes back
            tasks.run_import(job.pk)
        else:
            tasks.households_import(job.pk)
        return redirect("households:excel_job", job_id=job.pk)
    return render(request, "households/excel_import.html", {"form": form})


@login_required
@require_GET
def excel_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = job_get(actor=request.user, job_id=job_id, kinds=[excel.KIND_IMPORT])
    return render(request, "households/excel_job.html", {"job": job, "r": job.result})


@login_required
@require_GET
def excel_export(request: HttpRequest) -> FileResponse:
    """The households in scope matching the list's filters, masked, as a workbook."""
    if not has_perm(request.user, Perm.HOUSEHOLD_VIEW):
        raise Forbidden(_("您没有查看十必联登记的权限。"))
    contact = request.GET.get("contact", "")
    filters = {
        "search": request.GET.get("q", "").strip()[:50],
        "tag": request.GET.get("tag", ""),
        "uncovered": request.GET.get("uncovered") == "1",
        "contact_id": int(contact) if contact.isdigit() and len(contact) < 10 else None,
    }
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    excel.export_workbook(actor=request.user, filters=filters, out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(out, content_type=XLSX, as_attachment=True)
    response["Content-Disposition"] = f"attachment; filename=households-{stamp}.xlsx"
    response["Cache-Control"] = "no-store"
    return response
