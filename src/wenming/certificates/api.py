"""The certificates API at /api/certificates: a volunteer's requests and certificates,
the staff queue and list, issue, reject and revoke, the PDF, and the public verify —
through the same services and selectors as the pages."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.certificates import selectors, services
from wenming.certificates.models import Certificate
from wenming.certificates.views import pdf_response
from wenming.core.api import ErrorOut, Paging
from wenming.core.crypto import mask_name
from wenming.core.errors import NotFound
from wenming.network.models import Unit

router = Router(tags=["certificates"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RequestIn(Schema):
    unit_id: int
    period_start: dt.date
    period_end: dt.date
    note: str = ""


class RequestOut(Schema):
    id: int
    volunteer_id: int
    unit_id: int
    period_start: dt.date
    period_end: dt.date
    note: str
    status: str
    reason: str
    answered_at: dt.datetime | None
    created_at: dt.datetime


class CertificateOut(Schema):
    id: int
    number: str
    request_id: int | None
    volunteer_id: int
    volunteer_number: str
    volunteer_name: str
    id_type: str
    id_masked: str
    unit_id: int
    unit_name: str
    period_start: dt.date
    period_end: dt.date
    minutes: int
    content: str
    person_in_charge: str
    handler: str
    contact: str
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_reason: str


class IssueIn(Schema):
    volunteer_number: str
    unit_id: int
    period_start: dt.date
    period_end: dt.date


class ReasonIn(Schema):
    reason: str


class VerifyOut(Schema):
    number: str
    verdict: str
    masked_name: str | None = None
    id_type: str | None = None
    id_masked: str | None = None
    volunteer_number: str | None = None
    unit_name: str | None = None
    minutes: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    issued_on: dt.date | None = None
    revoked_on: dt.date | None = None


@router.post("/requests", response={201: RequestOut, **ERRORS})
def request_certificate(request: HttpRequest, payload: RequestIn) -> object:
    """The calling volunteer asks a unit for a certificate over a period."""
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFound("找不到该单位。")
    return Status(
        201,
        services.certificate_request(
            actor=request.user,
            unit=unit,
            period_start=payload.period_start,
            period_end=payload.period_end,
            note=payload.note,
        ),
    )


@router.get("/requests/mine", response=list[RequestOut])
@paginate(Paging)
def my_requests(request: HttpRequest) -> object:
    return selectors.my_requests(actor=request.user)


@router.get("/mine", response=list[CertificateOut])
@paginate(Paging)
def my_certificates(request: HttpRequest) -> object:
    return selectors.my_certificates(actor=request.user)


@router.get("/requests", response=list[RequestOut])
@paginate(Paging)
def request_queue(request: HttpRequest, status: str = "requested") -> object:
    """Requests to units in the caller's scope (default: those still to answer)."""
    return selectors.request_queue(actor=request.user, status=status)


@router.post("/requests/{request_id}/issue", response={201: CertificateOut, **ERRORS})
def issue_request(request: HttpRequest, request_id: int) -> object:
    req = selectors.request_get(actor=request.user, request_id=request_id)
    return Status(201, services.certificate_issue_request(actor=request.user, request=req))


@router.post("/requests/{request_id}/reject", response={200: RequestOut, **ERRORS})
def reject_request(request: HttpRequest, request_id: int, payload: ReasonIn) -> object:
    req = selectors.request_get(actor=request.user, request_id=request_id)
    return services.certificate_reject_request(
        actor=request.user, request=req, reason=payload.reason
    )


@router.post("/issue", response={201: CertificateOut, **ERRORS})
def issue_direct(request: HttpRequest, payload: IssueIn) -> object:
    """Issue without a request, for a volunteer by their volunteer number."""
    unit = Unit.objects.filter(pk=payload.unit_id).first()
    if unit is None:
        raise NotFound("找不到该单位。")
    services.require_issuer(request.user, unit)
    volunteer = selectors.volunteer_by_number(number=payload.volunteer_number)
    return Status(
        201,
        services.certificate_issue(
            actor=request.user,
            unit=unit,
            volunteer=volunteer,
            period_start=payload.period_start,
            period_end=payload.period_end,
        ),
    )


@router.get("", response=list[CertificateOut])
@paginate(Paging)
def list_certificates(request: HttpRequest, q: str = "") -> object:
    """Certificates of units in the caller's scope, newest first."""
    return selectors.certificate_list(actor=request.user, search=q[:50])


@router.get("/verify/{number}", response=VerifyOut, auth=None)
def verify(request: HttpRequest, number: str) -> object:
    """Public: valid / revoked / unknown / tampered, with masked data only."""
    result = services.certificate_verify(number=number)
    out = VerifyOut(number=number[:32], verdict=result.verdict.value)
    cert: Certificate | None = result.certificate
    if cert is not None and result.verdict in (services.Verdict.VALID, services.Verdict.REVOKED):
        from django.utils import timezone

        out = VerifyOut(
            number=cert.number,
            verdict=result.verdict.value,
            masked_name=mask_name(cert.volunteer_name),
            id_type=cert.id_type,
            id_masked=cert.id_masked,
            volunteer_number=cert.volunteer_number,
            unit_name=cert.unit_name,
            minutes=cert.minutes,
            period_start=cert.period_start,
            period_end=cert.period_end,
            issued_on=timezone.localtime(cert.issued_at).date(),
            revoked_on=timezone.localtime(cert.revoked_at).date() if cert.revoked_at else None,
        )
    return out


@router.get("/{certificate_id}", response={200: CertificateOut, 404: ErrorOut})
def get_certificate(request: HttpRequest, certificate_id: int) -> object:
    return selectors.certificate_get(actor=request.user, certificate_id=certificate_id)


@router.get(
    "/{certificate_id}/pdf",
    response={200: None, 403: ErrorOut, 404: ErrorOut},
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def download(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The certificate as a PDF: the volunteer themself or the issuing side."""
    return pdf_response(request, certificate_id)


@router.post("/{certificate_id}/revoke", response={200: CertificateOut, **ERRORS})
def revoke(request: HttpRequest, certificate_id: int, payload: ReasonIn) -> object:
    cert = selectors.certificate_get(actor=request.user, certificate_id=certificate_id)
    return services.certificate_revoke(actor=request.user, certificate=cert, reason=payload.reason)
