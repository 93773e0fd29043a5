"""The happy path end to end: confirmed records, a request, the issue, the PDF parsed
back (pdftotext) with every field on it, its QR code decoded (zbarimg on the page
rendered by pdftoppm), and the address in the QR code saying the certificate is valid."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.certificates.helpers import END, START, record
from wenming.certificates.models import Certificate, RequestStatus
from wenming.records import services as records
from wenming.records.models import RecordStatus

TOOLS = {name: shutil.which(name) for name in ("pdftotext", "pdftoppm", "zbarimg")}


def need(*names: str) -> None:
    missing = [n for n in names if not TOOLS[n]]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing (apt-get install poppler-utils zbar-tools)")


def pdf_text(path: Path) -> str:
    need("pdftotext")
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True
    )
    return out.stdout.decode()


def qr_codes(path: Path, tmp_path: Path) -> list[str]:
    need("pdftoppm", "zbarimg")
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(prefix)], check=True)
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == 1  # one A4 page
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", *map(str, images)], capture_output=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.decode().split()


def test_request_issue_download_parse_scan_verify(client, login, cast, net, tmp_path):
    from tests.certificates.helpers import volunteer_with_login

    user, volunteer = volunteer_with_login(cast.county_admin, 1)
    net.station.phone = "0516-87001234"
    net.station.save()
    for minutes, content in ((180, "马庄村环境整治"), (90, "敬老院包饺子")):
        pending = record(volunteer, net.station, minutes, content=content,
                         status=RecordStatus.PENDING)  # fmt: skip
        records.record_confirm(actor=cast.station_admin, record=pending)

    # The volunteer asks on 我的证明.
    login(user)
    page = client.get("/certificates/mine/").content.decode()
    assert net.station.name in page
    response = client.post(
        "/certificates/mine/",
        {"unit": net.station.pk, "period_start": START, "period_end": END, "note": "升学"},
    )
    assert response.status_code == 302
    req = volunteer.certificate_requests.get()

    # The station admin issues it from the queue.
    login(cast.station_admin)
    assert f'id="request-{req.pk}"' in client.get("/certificates/").content.decode()
    response = client.post(f"/certificates/requests/{req.pk}/issue/")
    cert = Certificate.objects.get()
    assert response["Location"] == f"/certificates/{cert.pk}/"
    req.refresh_from_db()
    assert req.status == RequestStatus.ISSUED

    # The volunteer downloads the PDF.
    login(user)
    response = client.get(f"/certificates/{cert.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.content)
    assert path.read_bytes().startswith(b"%PDF")

    text = pdf_text(path)
    for expected in [
        "志愿服务证明",
        cert.number,
        volunteer.name,
        "居民身份证",
        volunteer.id_masked,
        volunteer.number,
        "累计服务时长 4.5 小时",
        "马庄村环境整治、敬老院包饺子",
        "2026-01-01",
        "2026-06-30",
        net.station.name,
        "张站长",  # person in charge, from the records
        cast.station_admin.name,  # the handler
        "0516-87001234",
    ]:
        # Compared without whitespace: the title is letter-spaced, long lines wrap.
        assert "".join(expected.split()) in "".join(text.split()), expected
    # The full ID number is never printed.
    from wenming.core import crypto

    assert crypto.decrypt(volunteer.id_cipher) not in text

    codes = qr_codes(path, tmp_path)
    assert len(codes) == 1
    url = urlsplit(codes[0])
    assert url.path == f"/verify/{cert.number}/"

    client.logout()
    page = client.get(url.path).content.decode()
    assert 'data-verdict="valid"' in page
    assert volunteer.name not in page  # masked
    assert volunteer.name[0] + "*" in page


def test_public_base_url_setting_goes_into_the_qr_code(
    client, login, cast, net, tmp_path, settings
):
    from tests.certificates.helpers import volunteer_with_login
    from wenming.certificates.services import certificate_issue

    settings.WENMING_PUBLIC_URL = "https://wm.example.cn"
    user, volunteer = volunteer_with_login(cast.county_admin, 1)
    record(volunteer, net.station, 60)
    cert = certificate_issue(
        actor=cast.county_admin, unit=net.station, volunteer=volunteer,
        period_start=START, period_end=END,
    )  # fmt: skip
    login(user)
    path = tmp_path / "c.pdf"
    path.write_bytes(client.get(f"/certificates/{cert.pk}/pdf/").content)
    assert qr_codes(path, tmp_path) == [f"https://wm.example.cn/verify/{cert.number}/"]
