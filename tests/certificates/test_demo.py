"""The demo: the demo volunteer (13800000005) holds one valid certificate, issued from
confirmed records made through the records services; a second load changes nothing."""

from __future__ import annotations

from wenming.certificates.models import Certificate
from wenming.certificates.services import Verdict, certificate_verify
from wenming.core import crypto
from wenming.core.demo import demo_load
from wenming.records.models import RecordStatus, ServiceRecord


def test_demo_certificate(db):
    result = demo_load()
    assert result["certificates"]["certificates"] == 1
    cert = Certificate.objects.get()
    assert cert.volunteer.user.phone_digest in crypto.digests("13800000005")
    assert certificate_verify(number=cert.number).verdict == Verdict.VALID
    confirmed = ServiceRecord.objects.filter(
        volunteer=cert.volunteer, unit=cert.unit, status=RecordStatus.CONFIRMED
    )
    assert cert.minutes == sum(r.minutes for r in confirmed) > 0

    before = (
        list(Certificate.objects.values()),
        list(ServiceRecord.objects.order_by("pk").values()),
    )
    assert demo_load()["certificates"] == {"records": 0, "certificates": 0}
    after = (
        list(Certificate.objects.values()),
        list(ServiceRecord.objects.order_by("pk").values()),
    )
    assert after == before
