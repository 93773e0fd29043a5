"""Shared helpers for the certificate tests: confirmed service records written straight
into the ledger, and a snapshot of everything a refused write must not change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.activities.helpers import volunteer_user
from tests.shared import rows
from wenming.accounts.models import User
from wenming.certificates.models import Certificate, CertificateCounter, CertificateRequest
from wenming.records.models import RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer

D1 = dt.date(2026, 3, 1)
D2 = dt.date(2026, 5, 1)
START = dt.date(2026, 1, 1)
END = dt.date(2026, 6, 30)


def volunteer_with_login(staff: Any, n: int) -> tuple[User, Volunteer]:
    user = volunteer_user(staff, n)
    return user, Volunteer.objects.get(user=user)


def record(
    volunteer: Volunteer,
    unit: Any,
    minutes: int,
    date: dt.date = D1,
    *,
    content: str = "马庄村环境整治",
    status: str = RecordStatus.CONFIRMED,
    reverses: ServiceRecord | None = None,
    person_in_charge: str = "张站长",
) -> ServiceRecord:
    confirmed = status == RecordStatus.CONFIRMED
    return ServiceRecord.objects.create(
        volunteer=volunteer,
        unit=unit,
        region_id=unit.region_id,
        date=date,
        place="马庄村",
        content=content,
        minutes=minutes,
        status=status,
        confirmed_at=timezone.now() if confirmed else None,
        reverses=reverses,
        reason="更正" if reverses else "",
        person_in_charge=person_in_charge,
    )


def state() -> tuple[Any, ...]:
    return rows(CertificateRequest, Certificate, CertificateCounter)
