"""Writes about certificates: a volunteer's request, issue (from a request or directly),
rejecting a request, revoking a certificate; and verification.

谁记录谁证明: a unit certifies only its own confirmed records. The hours are the sum of
the volunteer's confirmed records of the issuing unit dated in the period, reversals
included, computed at issue and frozen in the signed certificate. Every write checks the
actor, writes atomically and is audited."""

from __future__ import annotations

import datetime as dt
import enum
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from wenming.accounts.types import Actor, user_of
from wenming.certificates import signing
from wenming.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateRequest,
    RequestStatus,
)
from wenming.core import regions as rc
from wenming.core.access import require
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound, RuleViolation
from wenming.core.roles import Perm
from wenming.core.statemachine import StateMachine, Transition
from wenming.network.models import Unit
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer, VolunteerStatus
from wenming.volunteers.own import volunteer_of

CONTENT_MAX = 200

# A volunteer's request is answered once: issued, or declined with a reason.
REQUEST_MACHINE = StateMachine(
    [
        Transition("issue", frozenset({RequestStatus.REQUESTED}), RequestStatus.ISSUED,
                   gettext_lazy("出具"), refused=gettext_lazy("该申请已经处理。")),
        Transition("reject", frozenset({RequestStatus.REQUESTED}), RequestStatus.REJECTED,
                   gettext_lazy("不予出具"), reason_required=True,
                   reason_missing=gettext_lazy("请填写不予出具的原因。"),
                   refused=gettext_lazy("该申请已经处理。")),
    ],
    subject=pgettext_lazy("state machine subject", "该申请"),
    field="status",
    refused_code="answered",
)  # fmt: skip
NUMBER = re.compile(r"[0-9A-Za-z-]{1,32}\Z")


# ---------------------------------------------------------------- the rules


def require_issuer(actor: Actor, unit: Unit) -> None:
    """Staff with ACTIVITY_MANAGE over the unit's region; a read-only viewer 403, anyone
    else 404."""
    require(actor, Perm.ACTIVITY_MANAGE, unit.region_id, view_perm=Perm.ACTIVITY_VIEW)


def unit_records(
    *, volunteer_id: int, unit_id: int, period_start: dt.date, period_end: dt.date
) -> Any:
    """The records a certificate of `unit` covers: the volunteer's confirmed records of
    that unit dated in the period (reversals included, they are confirmed too)."""
    return ServiceRecord.objects.filter(
        volunteer_id=volunteer_id,
        unit_id=unit_id,
        status=RecordStatus.CONFIRMED,
        date__gte=period_start,
        date__lte=period_end,
    )


def certified_minutes(
    *, volunteer_id: int, unit_id: int, period_start: dt.date, period_end: dt.date
) -> int:
    total = unit_records(
        volunteer_id=volunteer_id,
        unit_id=unit_id,
        period_start=period_start,
        period_end=period_end,
    ).aggregate(s=Sum("minutes"))["s"]
    return int(total or 0)


def _content_summary(records: Any) -> str:
    """The distinct service contents, oldest first, truncated with 等."""
    seen: list[str] = []
    for content in (
        records.filter(reverses__isnull=True)
        .order_by("date", "id")
        .values_list("content", flat=True)
    ):
        content = " ".join(content.split())
        if content and content not in seen:
            seen.append(content)
    text = "、".join(seen)
    if len(text) > CONTENT_MAX:
        text = text[: CONTENT_MAX - 1] + "等"
    return text


def _person_in_charge(records: Any, fallback: str) -> str:
    latest = (
        records.exclude(person_in_charge="")
        .order_by("-date", "-id")
        .values_list("person_in_charge", flat=True)
        .first()
    )
    return latest or fallback


def _check_period(period_start: dt.date, period_end: dt.date, today: dt.date) -> None:
    if period_end < period_start:
        raise RuleViolation(_("截止日期不能早于起始日期。"), field="period_end")
    if period_start > today:
        raise RuleViolation(_("起始日期不能晚于今天。"), field="period_start")


def _own_volunteer(actor: Actor) -> Volunteer:
    volunteer = volunteer_of(actor)
    if volunteer is None or volunteer.status != VolunteerStatus.ACTIVE or not volunteer.number:
        raise RuleViolation(_("只有已注册的志愿者可以申请服务证明。"), code="not_volunteer")
    return volunteer


# The check part: no look-alike characters, readable aloud and typed from paper.
_CHECK_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _next_number(county: str, year: int) -> str:
    """`<county code>-<year>-<sequence>-<check>`, e.g. 320305-2026-000001-K7QM2X: readable
    on paper and unique (the counter row is locked until the transaction ends). The six
    random check characters (30 bits) keep the public verify page from being walked
    through in order: without the paper (or its QR code) a number cannot be guessed."""
    with transaction.atomic():
        CertificateCounter.objects.get_or_create(county=county, year=year)
    counter = CertificateCounter.objects.select_for_update().get(county=county, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    check = "".join(secrets.choice(_CHECK_ALPHABET) for _ in range(6))
    return f"{county}-{year}-{counter.last:06d}-{check}"


# ---------------------------------------------------------------- the volunteer asks


@transaction.atomic
def certificate_request(
    *,
    actor: Actor,
    unit: Unit,
    period_start: dt.date,
    period_end: dt.date,
    note: str = "",
    today: dt.date | None = None,
) -> CertificateRequest:
    """A registered volunteer asks a unit to certify their service there over a period.
    The unit must hold confirmed hours of theirs in the period; one open request per
    unit."""
    volunteer = _own_volunteer(actor)
    today = today or timezone.localdate()
    _check_period(period_start, period_end, today)
    if (
        certified_minutes(
            volunteer_id=volunteer.pk,
            unit_id=unit.pk,
            period_start=period_start,
            period_end=period_end,
        )
        <= 0
    ):
        raise RuleViolation(
            _("该单位在这段时间里没有您已确认的服务时长，无法出具证明。"), field="unit"
        )
    try:
        with transaction.atomic():
            req = CertificateRequest.objects.create(
                volunteer=volunteer,
                unit=unit,
                region_id=unit.region_id,
                period_start=period_start,
                period_end=period_end,
                note=" ".join((note or "").split())[:300],
                requested_by=user_of(actor),
            )
    except IntegrityError as exc:
        raise RuleViolation(
            _("您已向该单位提交过申请，请等待处理。"), code="duplicate", field="unit"
        ) from exc
    audit_record(
        actor=actor,
        verb="certificate.request",
        target=req,
        region_code=unit.region_id,
        changes={
            "unit": [None, unit.pk],
            "period": [None, [period_start.isoformat(), period_end.isoformat()]],
        },
        note=req.note,
    )
    return req


# ---------------------------------------------------------------- the unit issues


@transaction.atomic
def certificate_issue(
    *,
    actor: Actor,
    unit: Unit,
    volunteer: Volunteer,
    period_start: dt.date,
    period_end: dt.date,
    request: CertificateRequest | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """The unit's staff (ACTIVITY_MANAGE over its region) issue a certificate of the
    volunteer's confirmed service with the unit in the period, answering `request` when
    given. Refused when the hours come to zero or less."""
    require_issuer(actor, unit)
    now = now or timezone.now()
    if request is not None:
        locked = CertificateRequest.objects.select_for_update().filter(pk=request.pk).first()
        if locked is None or locked.unit_id != unit.pk or locked.volunteer_id != volunteer.pk:
            raise NotFound(_("找不到该证明申请。"))
        REQUEST_MACHINE.check(locked, "issue")
        request = locked
    _check_period(period_start, period_end, timezone.localdate(now))
    if not volunteer.number:
        raise RuleViolation(_("该志愿者尚未完成注册，没有志愿者编号。"))
    records = unit_records(
        volunteer_id=volunteer.pk,
        unit_id=unit.pk,
        period_start=period_start,
        period_end=period_end,
    )
    minutes = int(records.aggregate(s=Sum("minutes"))["s"] or 0)
    if minutes <= 0:
        raise RuleViolation(
            _("该志愿者在这段时间里没有本单位已确认的服务时长，不能出具证明。"),
            code="zero_hours",
        )
    cert = Certificate(
        number=_next_number(rc.county_prefix(unit.region_id), timezone.localdate(now).year),
        request=request,
        volunteer=volunteer,
        unit=unit,
        region_id=unit.region_id,
        volunteer_number=volunteer.number,
        volunteer_name=volunteer.name,
        id_type=volunteer.id_type,
        id_masked=volunteer.id_masked,
        unit_name=unit.name,
        period_start=period_start,
        period_end=period_end,
        minutes=minutes,
        content=_content_summary(records),
        person_in_charge=_person_in_charge(records, user_of(actor).name),
        handler=user_of(actor).name,
        contact=unit.phone,
        issued_at=now,
        issued_by=user_of(actor),
    )
    cert.signature = signing.sign(cert)
    cert.save()
    if request is not None:
        request.status = RequestStatus.ISSUED
        request.answered_by = user_of(actor)
        request.answered_at = now
        request.save(update_fields=["status", "answered_by", "answered_at"])
    audit_record(
        actor=actor,
        verb="certificate.issue",
        target=cert,
        region_code=unit.region_id,
        changes={
            "volunteer": [None, volunteer.pk],
            "minutes": [None, minutes],
            "period": [None, [period_start.isoformat(), period_end.isoformat()]],
            "request": [None, request.pk if request else None],
        },
    )
    return cert


def certificate_issue_request(
    *, actor: Actor, request: CertificateRequest, now: dt.datetime | None = None
) -> Certificate:
    """Issue the certificate a volunteer asked for, over the period they asked for."""
    return certificate_issue(
        actor=actor,
        unit=request.unit,
        volunteer=request.volunteer,
        period_start=request.period_start,
        period_end=request.period_end,
        request=request,
        now=now,
    )


@transaction.atomic
def certificate_reject_request(
    *, actor: Actor, request: CertificateRequest, reason: str, now: dt.datetime | None = None
) -> CertificateRequest:
    """The unit declines a request, saying why (the volunteer sees the reason)."""
    require(actor, Perm.ACTIVITY_MANAGE, request.region_id, view_perm=Perm.ACTIVITY_VIEW)
    reason = REQUEST_MACHINE.reason(REQUEST_MACHINE["reject"], reason)
    locked = CertificateRequest.objects.select_for_update().get(pk=request.pk)
    transition = REQUEST_MACHINE.check(locked, "reject")
    REQUEST_MACHINE.move(
        locked,
        transition,
        actor=actor,
        verb="certificate.reject_request",
        region_code=locked.region_id,
        reason=reason,
        fields={"reason": reason, "answered_by": actor, "answered_at": now or timezone.now()},
        update_fields=["status", "reason", "answered_by", "answered_at"],
    )
    return locked


@transaction.atomic
def certificate_revoke(
    *, actor: Actor, certificate: Certificate, reason: str, now: dt.datetime | None = None
) -> Certificate:
    """The issuing unit revokes a certificate with a reason (for example after a
    correction of the records it covered). It stays on file and verifies as revoked."""
    require(actor, Perm.ACTIVITY_MANAGE, certificate.region_id, view_perm=Perm.ACTIVITY_VIEW)
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise RuleViolation(_("请填写撤销原因。"), field="reason")
    locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if locked.revoked_at is not None:
        raise RuleViolation(_("该证明已经撤销。"), code="revoked")
    locked.revoked_at = now or timezone.now()
    locked.revoked_by = user_of(actor)
    locked.revoked_reason = reason
    locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    audit_record(
        actor=actor,
        verb="certificate.revoke",
        target=locked,
        region_code=locked.region_id,
        changes={"revoked_at": [None, locked.revoked_at.isoformat()]},
        note=reason,
    )
    return locked


# ---------------------------------------------------------------- verification


class Verdict(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    TAMPERED = "tampered"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    certificate: Certificate | None


def certificate_check(certificate: Certificate) -> Verdict:
    """A certificate's verdict: tampered when its signature does not match its fields
    (checked first: a forged revocation must not hide a forgery), else revoked or valid."""
    if not signing.signature_ok(certificate):
        return Verdict.TAMPERED
    if certificate.revoked_at is not None:
        return Verdict.REVOKED
    return Verdict.VALID


def certificate_verify(*, number: str) -> Verification:
    """What anyone holding a certificate number may learn: valid, revoked, unknown
    (no such number) or tampered. Read-only: not audited (it is public and anonymous)."""
    number = (number or "").strip()
    # Only the shape a number can have reaches the database (no NULs, no 10 kB strings).
    cert = Certificate.objects.filter(number=number).first() if NUMBER.match(number) else None
    if cert is None:
        return Verification(Verdict.UNKNOWN, None)
    return Verification(certificate_check(cert), cert)
