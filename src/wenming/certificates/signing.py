"""The certificate signature: HMAC-SHA256 over the canonical certified fields.

The key is derived (HKDF) from `WENMING_CERT_KEY` when set, else from `SECRET_KEY`.
Set `WENMING_CERT_KEY` in production: then rotating `SECRET_KEY` (sessions, CSRF) does
not turn every issued certificate into "tampered"."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from wenming.certificates.models import Certificate

VERSION = "wenming-cert-v1"


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"wenming:certificate").derive(
        secret.encode()
    )


def signing_key() -> bytes:
    return _key(getattr(settings, "WENMING_CERT_KEY", "") or settings.SECRET_KEY)


def canonical(cert: Certificate) -> str:
    """The signed fields in a fixed order, one per line (no field may hold a newline)."""
    issued = timezone.localtime(cert.issued_at).date().isoformat()
    fields = [
        VERSION,
        cert.number,
        cert.volunteer_number,
        cert.volunteer_name,
        cert.id_type,
        cert.id_masked,
        str(cert.unit_id),
        cert.unit_name,
        cert.period_start.isoformat(),
        cert.period_end.isoformat(),
        str(cert.minutes),
        issued,
    ]
    return "\n".join(f.replace("\n", " ") for f in fields)


def sign(cert: Certificate) -> str:
    return hmac.new(signing_key(), canonical(cert).encode(), hashlib.sha256).hexdigest()


def signature_ok(cert: Certificate) -> bool:
    return hmac.compare_digest(sign(cert), cert.signature or "")
