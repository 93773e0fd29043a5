"""The certificate as a PDF (A4, Chinese): rendered by WeasyPrint from an HTML template
on each download, never stored. The QR code (segno, inline SVG) opens the public
verification page."""

from __future__ import annotations

import segno
from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from wenming.certificates.models import Certificate


def verify_url(request: HttpRequest | None, number: str) -> str:
    """The absolute verification address: WENMING_PUBLIC_URL when set, else the address
    the request came in on."""
    path = reverse("verify:certificate", args=[number])
    if settings.WENMING_PUBLIC_URL:
        return settings.WENMING_PUBLIC_URL + path
    if request is None:
        return "http://127.0.0.1:8000" + path
    return request.build_absolute_uri(path)


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=4)


def certificate_html(*, certificate: Certificate, url: str) -> str:
    return render_to_string(
        "certificates/pdf.html",
        {
            "c": certificate,
            "verify_url": url,
            "qr": qr_data_uri(url),
            "issued_on": timezone.localtime(certificate.issued_at).date(),
        },
    )


def certificate_pdf(*, certificate: Certificate, url: str) -> bytes:
    from weasyprint import HTML  # heavy import: only when a PDF is made

    html = certificate_html(certificate=certificate, url=url)
    return bytes(HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf())
