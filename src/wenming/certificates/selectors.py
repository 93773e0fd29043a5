"""Reads about certificates, scoped to the actor: a volunteer sees their own requests
and certificates; staff see those of units in their ACTIVITY_VIEW scope. Downloading
the PDF is certifying: the volunteer themself or the issuing side (ACTIVITY_MANAGE);
read-only staff get 403, outsiders 404."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor
from wenming.certificates.models import Certificate, CertificateRequest, RequestStatus
from wenming.core.access import in_scope, require, scope_q
from wenming.core.errors import NotFound
from wenming.core.roles import Perm
from wenming.network.models import Unit
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer
from wenming.volunteers.own import volunteer_of

AUDIT_VERBS = {
    "certificate.request": pgettext_lazy("audit verb", "申请志愿服务证明"),
    "certificate.issue": pgettext_lazy("audit verb", "出具志愿服务证明"),
    "certificate.reject_request": pgettext_lazy("audit verb", "不予出具证明"),
    "certificate.revoke": pgettext_lazy("audit verb", "撤销志愿服务证明"),
}


def requestable_units(*, volunteer: Volunteer) -> QuerySet[Unit]:
    """The units holding confirmed records of the volunteer: the ones they may ask."""
    unit_ids = ServiceRecord.objects.filter(
        volunteer=volunteer, status=RecordStatus.CONFIRMED
    ).values("unit_id")
    return Unit.objects.filter(pk__in=unit_ids).order_by("region_id", "name")


def my_requests(*, actor: Actor) -> QuerySet[CertificateRequest]:
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return CertificateRequest.objects.none()
    return (
        CertificateRequest.objects.filter(volunteer=volunteer)
        .select_related("unit")
        .order_by("-created_at", "-id")
    )


def my_certificates(*, actor: Actor) -> QuerySet[Certificate]:
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Certificate.objects.none()
    return Certificate.objects.filter(volunteer=volunteer).order_by("-issued_at", "-id")


def request_queue(
    *, actor: Actor, status: str = RequestStatus.REQUESTED
) -> QuerySet[CertificateRequest]:
    """Requests to units in the actor's ACTIVITY_VIEW scope, oldest first."""
    qs = CertificateRequest.objects.filter(scope_q(actor, Perm.ACTIVITY_VIEW, "region_id"))
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("unit", "volunteer").order_by("created_at", "id")


def request_get(*, actor: Actor, request_id: int) -> CertificateRequest:
    """A request the actor may see: their own, or one in their ACTIVITY_VIEW scope."""
    req = (
        CertificateRequest.objects.select_related("unit", "volunteer").filter(pk=request_id).first()
    )
    volunteer = volunteer_of(actor)
    if req is None or not (
        (volunteer is not None and req.volunteer_id == volunteer.pk)
        or in_scope(actor, Perm.ACTIVITY_VIEW, req.region_id)
    ):
        raise NotFound(_("找不到该证明申请。"))
    return req


def certificate_list(*, actor: Actor, search: str = "") -> QuerySet[Certificate]:
    """Certificates of units in the actor's ACTIVITY_VIEW scope, newest first; search by
    certificate number or volunteer number (exact) or name (contains)."""
    qs = Certificate.objects.filter(scope_q(actor, Perm.ACTIVITY_VIEW, "region_id"))
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(number=search) | Q(volunteer_number=search) | Q(volunteer_name__icontains=search)
        )
    return qs.order_by("-issued_at", "-id")


def certificate_get(*, actor: Actor, certificate_id: int) -> Certificate:
    """A certificate the actor may see: their own, or one in their ACTIVITY_VIEW scope."""
    cert = (
        Certificate.objects.select_related("unit", "revoked_by").filter(pk=certificate_id).first()
    )
    volunteer = volunteer_of(actor)
    if cert is None or not (
        (volunteer is not None and cert.volunteer_id == volunteer.pk)
        or in_scope(actor, Perm.ACTIVITY_VIEW, cert.region_id)
    ):
        raise NotFound(_("找不到该证明。"))
    return cert


def certificate_for_download(*, actor: Actor, certificate_id: int) -> Certificate:
    """The volunteer themself, or staff who may issue for the unit; a read-only viewer
    403, anyone else (another volunteer, another county) 404."""
    cert = certificate_get(actor=actor, certificate_id=certificate_id)
    volunteer = volunteer_of(actor)
    if volunteer is not None and cert.volunteer_id == volunteer.pk:
        return cert
    require(actor, Perm.ACTIVITY_MANAGE, cert.region_id, view_perm=Perm.ACTIVITY_VIEW)
    return cert


def can_issue(actor: Actor, region_code: str) -> bool:
    return in_scope(actor, Perm.ACTIVITY_MANAGE, region_code)


def issuing_units(*, actor: Actor) -> QuerySet[Unit]:
    """The active units the actor may issue certificates for."""
    return Unit.objects.filter(
        scope_q(actor, Perm.ACTIVITY_MANAGE, "region_id"), is_active=True
    ).order_by("region_id", "kind", "name")


def volunteer_by_number(*, number: str) -> Volunteer:
    """A volunteer by their number, for a direct issue (the issuing unit certifies its own
    records, wherever the volunteer lives)."""
    volunteer = Volunteer.objects.filter(number=(number or "").strip()).first()
    if volunteer is None:
        raise NotFound(_("找不到该志愿者编号。"))
    return volunteer
