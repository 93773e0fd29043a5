"""Check-in and record pages: the organiser's QR screen with live counts and manual
check-in/out, the volunteer's scan landing page, the roster with pending records to
confirm or reject, the volunteer's 我的服务记录 with correction requests, and the
organiser's correction inbox. Views parse, call a service or selector, and render."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core.errors import RuleViolation
from wenming.records import selectors, services
from wenming.records.checkin import pass_for, token_check, token_for, token_seconds_left
from wenming.records.forms import (
    CorrectionAnswerForm,
    CorrectionRequestForm,
    ManualForm,
    RejectForm,
    ScanForm,
)
from wenming.records.models import Attendance, RecordStatus
from wenming.volunteers.own import volunteer_of


def _hours_to_minutes(value: Decimal | None) -> int | None:
    return None if value is None else round(value * 60)


# ---------------------------------------------------------------- the volunteer's scan


def _scan_url(activity_id: int, token: str) -> str:
    return reverse("checkin:scan", args=[activity_id]) + "?" + urlencode({"t": token})


@require_http_methods(["GET", "POST"])
def scan(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Where the QR code leads. A valid token becomes a five-minute pass (so logging in
    first, or allowing location access, does not outlast the 30-second code); then one
    big button checks in, or out once checked in."""
    activity = selectors.activity_for_checkin(activity_id=activity_id)
    now = timezone.now()
    error = ""
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t", "")
    try:
        token_check(activity.pk, token or "", now)
    except RuleViolation as exc:
        error = exc.message
    if error:
        return render(request, "records/scan.html", {"a": activity, "error": error}, status=400)
    if not request.user.is_authenticated:
        return redirect_to_login(_scan_url(activity.pk, pass_for(activity.pk, now)))
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            call = (
                services.attendance_check_in
                if data["action"] == "in"
                else services.attendance_check_out
            )
            try:
                call(
                    actor=request.user,
                    activity=activity,
                    token=data["t"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                )
            except RuleViolation as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("签到成功！") if data["action"] == "in" else _("签退成功！")
                )
        else:
            messages.error(request, _("提交的信息不完整，请重新扫码。"))
        return redirect(_scan_url(activity.pk, pass_for(activity.pk, now)))
    volunteer = volunteer_of(request.user)
    attendance = (
        Attendance.objects.filter(activity=activity, volunteer=volunteer)
        .select_related("service_record")
        .first()
        if volunteer is not None
        else None
    )
    return render(
        request,
        "records/scan.html",
        {
            "a": activity,
            "attendance": attendance,
            "record": getattr(attendance, "service_record", None) if attendance else None,
            "is_volunteer": volunteer is not None,
            "pass": pass_for(activity.pk, now),
            "geofenced": activity.latitude is not None and activity.longitude is not None,
            "started": now >= activity.starts_at,
        },
    )


# ---------------------------------------------------------------- the organiser's screen


def _qr_context(request: HttpRequest, activity: Any) -> dict[str, Any]:
    now = timezone.now()
    url = request.build_absolute_uri(_scan_url(activity.pk, token_for(activity.pk, now)))
    qr = segno.make(url, error="m")
    return {
        "a": activity,
        "scan_url": url,
        "qr_svg": qr.svg_inline(scale=8, border=2, title=_("签到二维码")),
        "counts": selectors.attendance_counts(activity=activity),
        "seconds_left": token_seconds_left(now),
    }


@login_required
@require_GET
def screen(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    context = _qr_context(request, activity)
    context["signups"] = selectors.roster_rows(activity=activity)
    context["manual_form"] = ManualForm()
    return render(request, "records/screen.html", context)


@login_required
@require_GET
def screen_qr(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The QR code and counts, polled by the screen every 30 seconds (htmx)."""
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    return render(request, "records/partials/qr.html", _qr_context(request, activity))


@login_required
@require_POST
def manual(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    form = ManualForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择志愿者并填写原因。"))
    else:
        data = form.cleaned_data
        call = (
            services.attendance_manual_check_in
            if data["action"] == "in"
            else services.attendance_manual_check_out
        )
        try:
            call(
                actor=request.user,
                activity=activity,
                volunteer_id=data["volunteer"],
                reason=data["reason"],
                at=data["at"],
            )
        except RuleViolation as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已记录。"))
    return redirect(request.POST.get("next") or reverse("checkin:screen", args=[activity.pk]))


# ---------------------------------------------------------------- roster and confirmation


@login_required
@require_GET
def activity_records(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    rows = selectors.roster_rows(activity=activity)
    records = [getattr(r, "record", None) for r in rows]
    pending = sum(1 for rec in records if rec is not None and rec.status == RecordStatus.PENDING)
    return render(
        request,
        "records/activity_records.html",
        {
            "a": activity,
            "rows": rows,
            "pending": pending,
            "counts": selectors.attendance_counts(activity=activity),
            "manual_form": ManualForm(),
        },
    )


@login_required
@require_POST
def confirm(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_for_organiser(actor=request.user, activity_id=activity_id)
    ids = [int(v) for v in request.POST.getlist("record") if v.isdigit()]
    try:
        n = services.records_confirm_pending(actor=request.user, activity=activity, record_ids=ids)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        if n:
            messages.success(request, _("已确认 %(n)s 条服务记录。") % {"n": n})
        else:
            messages.info(request, _("请先勾选待确认的记录。"))
    return redirect("records:activity", activity_id=activity.pk)


@login_required
@require_POST
def reject(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.record_get(actor=request.user, record_id=record_id)
    form = RejectForm(request.POST)
    try:
        services.record_reject(
            actor=request.user,
            record=record,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已标记为不予确认。"))
    if record.activity_id is None:
        return redirect("records:corrections")
    return redirect("records:activity", activity_id=record.activity_id)


# ---------------------------------------------------------------- my records, corrections


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_of(request.user)
    records = list(selectors.my_records(actor=request.user))
    return render(
        request,
        "records/mine.html",
        {"volunteer": volunteer, "records": records, "form": CorrectionRequestForm()},
    )


@login_required
@require_POST
def correction_request(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.record_get(actor=request.user, record_id=record_id)
    form = CorrectionRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明需要更正的内容。"))
        return redirect("records:mine")
    try:
        services.correction_request(
            actor=request.user,
            record=record,
            reason=form.cleaned_data["reason"],
            proposed_minutes=_hours_to_minutes(form.cleaned_data["proposed_hours"]),
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已提交更正申请，组织方核实后会答复您。"))
    return redirect("records:mine")


@login_required
@require_GET
def corrections(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.correction_list(actor=request.user, include_own=False))
    return render(
        request, "records/corrections.html", {"rows": rows, "form": CorrectionAnswerForm()}
    )


@login_required
@require_POST
def correction_answer(request: HttpRequest, correction_id: int) -> HttpResponse:
    correction = selectors.correction_get(actor=request.user, correction_id=correction_id)
    form = CorrectionAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写答复。"))
        return redirect("records:corrections")
    data = form.cleaned_data
    try:
        services.correction_answer(
            actor=request.user,
            correction=correction,
            accept=data["decision"] == "accept",
            answer=data["answer"],
            minutes=_hours_to_minutes(data["hours"]),
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已答复。"))
    return redirect("records:corrections")
