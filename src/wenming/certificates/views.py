"""Certificate pages: the volunteer's 我的证明 (request, list, download), the staff
list with the request queue (issue, reject) and issued certificates, a certificate's
page with revoke, the PDF download, and the public verification page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.certificates import selectors, services
from wenming.certificates.forms import DirectIssueForm, ReasonForm, RequestForm
from wenming.certificates.pdf import certificate_pdf, verify_url
from wenming.certificates.services import Verdict
from wenming.core.crypto import mask_name
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.volunteers.own import volunteer_of


@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_of(request.user)
    units = list(selectors.requestable_units(volunteer=volunteer)) if volunteer else []
    form = RequestForm(request.POST or None, units=units)
    if request.method == "POST" and volunteer is not None and form.is_valid():
        data = form.cleaned_data
        unit = next(u for u in units if u.pk == data["unit"])
        try:
            services.certificate_request(
                actor=request.user,
                unit=unit,
                period_start=data["period_start"],
                period_end=data["period_end"],
                note=data["note"],
            )
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已提交申请，出具单位核实后会出具证明。"))
            return redirect("certificates:mine")
    if not form.is_bound:
        today = timezone.localdate()
        form.initial = {"period_start": today.replace(month=1, day=1), "period_end": today}
    return render(
        request,
        "certificates/mine.html",
        {
            "volunteer": volunteer,
            "form": form,
            "units": units,
            "requests": list(selectors.my_requests(actor=request.user)),
            "certificates": list(selectors.my_certificates(actor=request.user)),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    queue = list(selectors.request_queue(actor=request.user))
    search = request.GET.get("q", "")[:50]
    page = paginate(request, selectors.certificate_list(actor=request.user, search=search))
    for row in queue:
        row.can_issue = selectors.can_issue(request.user, row.region_id)  # type: ignore[attr-defined]
    return render(
        request,
        "certificates/list.html",
        {
            "queue": queue,
            "page": page,
            "q": search,
            "qs": querystring_without_page(request),
            "reason_form": ReasonForm(),
            "direct_form": _direct_form(request, None),
        },
    )


def _direct_form(request: HttpRequest, data: object) -> DirectIssueForm | None:
    units = list(selectors.issuing_units(actor=request.user))
    if not units:
        return None
    form = DirectIssueForm(data, units=units)
    if data is None:
        today = timezone.localdate()
        form.initial = {"period_start": today.replace(month=1, day=1), "period_end": today}
    return form


@login_required
@require_POST
def issue_direct(request: HttpRequest) -> HttpResponse:
    """Issue without a request (the volunteer asked in person, by phone...)."""
    form = _direct_form(request, request.POST)
    if form is None:
        return render(request, "403.html", status=403)
    if not form.is_valid():
        messages.error(request, _("请填写志愿者编号、出具单位和服务期间。"))
        return redirect("certificates:list")
    data = form.cleaned_data
    unit = next(u for u in selectors.issuing_units(actor=request.user) if u.pk == data["unit"])
    try:
        volunteer = selectors.volunteer_by_number(number=data["volunteer_number"])
        cert = services.certificate_issue(
            actor=request.user,
            unit=unit,
            volunteer=volunteer,
            period_start=data["period_start"],
            period_end=data["period_end"],
        )
    except (RuleViolation, NotFound) as exc:
        messages.error(request, exc.message)
        return redirect("certificates:list")
    messages.success(request, _("已出具证明 %(n)s。") % {"n": cert.number})
    return redirect("certificates:detail", certificate_id=cert.pk)


@login_required
@require_POST
def issue(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_get(actor=request.user, request_id=request_id)
    try:
        cert = services.certificate_issue_request(actor=request.user, request=req)
    except RuleViolation as exc:
        messages.error(request, exc.message)
        return redirect("certificates:list")
    messages.success(request, _("已出具证明 %(n)s。") % {"n": cert.number})
    return redirect("certificates:detail", certificate_id=cert.pk)


@login_required
@require_POST
def reject(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_get(actor=request.user, request_id=request_id)
    form = ReasonForm(request.POST)
    try:
        services.certificate_reject_request(
            actor=request.user,
            request=req,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已答复：不予出具。"))
    return redirect("certificates:list")


@login_required
@require_GET
def detail(request: HttpRequest, certificate_id: int) -> HttpResponse:
    cert = selectors.certificate_get(actor=request.user, certificate_id=certificate_id)
    volunteer = volunteer_of(request.user)
    own = volunteer is not None and cert.volunteer_id == volunteer.pk
    manage = selectors.can_issue(request.user, cert.region_id)
    return render(
        request,
        "certificates/detail.html",
        {
            "c": cert,
            "own": own,
            "verdict": services.certificate_check(cert),
            "can_download": own or manage,
            "can_revoke": manage and cert.revoked_at is None,
            "verify_url": verify_url(request, cert.number),
            "reason_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def revoke(request: HttpRequest, certificate_id: int) -> HttpResponse:
    cert = selectors.certificate_get(actor=request.user, certificate_id=certificate_id)
    form = ReasonForm(request.POST)
    try:
        services.certificate_revoke(
            actor=request.user,
            certificate=cert,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("证明已撤销。"))
    return redirect("certificates:detail", certificate_id=cert.pk)


def pdf_response(request: HttpRequest, certificate_id: int) -> HttpResponse:
    cert = selectors.certificate_for_download(actor=request.user, certificate_id=certificate_id)
    body = certificate_pdf(certificate=cert, url=verify_url(request, cert.number))
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{cert.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    return pdf_response(request, certificate_id)


# ---------------------------------------------------------------- public verification


@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("number", "").strip()[:32]
    if number:
        return redirect("verify:certificate", number=number)
    return render(request, "certificates/verify.html", {"form_only": True})


@require_GET
def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Anyone may check a number: the verdict and masked data only (never the full
    name or ID number), and nothing at all for an unknown or tampered certificate."""
    result = services.certificate_verify(number=number)
    cert = result.certificate if result.verdict in (Verdict.VALID, Verdict.REVOKED) else None
    return render(
        request,
        "certificates/verify.html",
        {
            "number": number[:32],
            "verdict": result.verdict,
            "c": cert,
            "masked_name": mask_name(cert.volunteer_name) if cert else "",
            "issued_on": timezone.localtime(cert.issued_at).date() if cert else None,
        },
        # An unknown number is not found (404), for people and for link checkers alike.
        status=404 if result.verdict == Verdict.UNKNOWN else 200,
    )
