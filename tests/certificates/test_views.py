"""The pages: 我的证明 (request form limited to the volunteer's units, lists), the staff
list with the queue, issue and reject, a certificate's page and revoke, the download
(the volunteer or the issuing side; another volunteer and outsiders 404, read-only
403), the public verification page (masked data only), and constant query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.certificates.helpers import END, START, record, state, volunteer_with_login
from wenming.certificates import services
from wenming.certificates.models import Certificate, CertificateRequest, RequestStatus
from wenming.core import crypto


def issue(actor, unit, volunteer):
    return services.certificate_issue(
        actor=actor, unit=unit, volunteer=volunteer, period_start=START, period_end=END
    )


@pytest.fixture
def cert(cast, net, vol, hours):
    return issue(cast.station_admin, net.station, vol[1])


def test_mine_offers_only_units_with_confirmed_records(client, login, net, vol, hours):
    login(vol[0])
    page = client.get("/certificates/mine/").content.decode()
    assert f'<option value="{net.station.pk}"' in page
    assert f'<option value="{net.station2.pk}"' not in page
    before = state()
    response = client.post(
        "/certificates/mine/",
        {"unit": net.station2.pk, "period_start": START, "period_end": END},
    )
    assert response.status_code == 400
    assert state() == before


def test_mine_shows_a_rule_violation_on_the_form(client, login, net, vol, hours):
    login(vol[0])
    response = client.post(
        "/certificates/mine/", {"unit": net.station.pk, "period_start": END, "period_end": START}
    )
    assert response.status_code == 400
    assert "截止日期不能早于起始日期" in response.content.decode()
    assert not CertificateRequest.objects.exists()


def test_mine_for_a_user_who_is_not_a_volunteer(client, login, cast):
    login(cast.county_admin)
    page = client.get("/certificates/mine/").content.decode()
    assert 'id="not-volunteer"' in page


def test_mine_lists_requests_and_certificates_with_download(client, login, cert, vol):
    login(vol[0])
    page = client.get("/certificates/mine/").content.decode()
    assert cert.number in page
    assert f"/certificates/{cert.pk}/pdf/" in page


def test_reject_from_the_queue(client, login, cast, net, vol, hours):
    req = services.certificate_request(
        actor=vol[0], unit=net.station, period_start=START, period_end=END
    )
    login(cast.station_admin)
    client.post(f"/certificates/requests/{req.pk}/reject/", {"reason": "请先更正记录"})
    req.refresh_from_db()
    assert (req.status, req.reason) == (RequestStatus.REJECTED, "请先更正记录")
    login(vol[0])
    assert "请先更正记录" in client.get("/certificates/mine/").content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 404), ("supervisor", 403), ("volunteer", 404)]
)
def test_issue_and_reject_refused_pages(client, login, cast, net, vol, hours, who, status):
    req = services.certificate_request(
        actor=vol[0], unit=net.station, period_start=START, period_end=END
    )
    login(getattr(cast, who))
    before = state()
    assert client.post(f"/certificates/requests/{req.pk}/issue/").status_code == status
    response = client.post(f"/certificates/requests/{req.pk}/reject/", {"reason": "x"})
    assert response.status_code == status
    assert state() == before


def test_download_by_the_volunteer_and_the_issuer(client, login, cast, cert, vol):
    for user in (vol[0], cast.station_admin, cast.county_admin):
        login(user)
        response = client.get(f"/certificates/{cert.pk}/pdf/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("supervisor", 403)])
def test_download_refused_to_staff(client, login, cast, cert, who, status):
    login(getattr(cast, who))
    assert client.get(f"/certificates/{cert.pk}/pdf/").status_code == status
    assert client.get(f"/api/certificates/{cert.pk}/pdf").status_code == status


def test_download_refused_to_another_volunteer_and_anonymous(client, login, cert, other_vol):
    login(other_vol[0])
    assert client.get(f"/certificates/{cert.pk}/pdf/").status_code == 404
    assert client.get(f"/certificates/{cert.pk}/").status_code == 404
    assert client.get(f"/api/certificates/{cert.pk}/pdf").status_code == 404
    client.logout()
    response = client.get(f"/certificates/{cert.pk}/pdf/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_revoke_from_the_certificate_page(client, login, cast, cert):
    login(cast.supervisor)
    page = client.get(f"/certificates/{cert.pk}/").content.decode()
    assert 'id="revoke"' not in page and 'id="download"' not in page
    before = state()
    response = client.post(f"/certificates/{cert.pk}/revoke/", {"reason": "错"})
    assert response.status_code == 403
    assert state() == before
    login(cast.station_admin)
    assert 'id="revoke"' in client.get(f"/certificates/{cert.pk}/").content.decode()
    client.post(f"/certificates/{cert.pk}/revoke/", {"reason": "记录有误"})
    cert.refresh_from_db()
    assert cert.revoked_reason == "记录有误"
    page = client.get(f"/verify/{cert.number}/").content.decode()
    assert 'data-verdict="revoked"' in page


def test_verify_page_shows_masked_data_only(client, cert, vol):
    _, volunteer = vol
    page = client.get(f"/verify/{cert.number}/").content.decode()
    assert 'data-verdict="valid"' in page
    assert volunteer.name not in page
    assert volunteer.name[0] + "*" in page
    assert volunteer.id_masked in page
    assert crypto.decrypt(volunteer.id_cipher) not in page
    assert volunteer.number in page
    assert "4.5" in page
    assert cert.handler not in page  # staff names are not public either


def test_verify_unknown_and_form(client, db):
    response = client.get("/verify/320305-2026-424242/")
    assert response.status_code == 404  # an unknown number is not found
    assert 'data-verdict="unknown"' in response.content.decode()
    for junk in ("ab%00cd", "%E2%80%AE" * 40, "a" * 500):
        response = client.get(f"/verify/{junk}/")
        assert response.status_code in (404, 400), junk
    response = client.get("/verify/", {"number": " 320305-2026-000001 "})
    assert response["Location"] == "/verify/320305-2026-000001/"
    assert client.get("/verify/").status_code == 200


def test_verify_page_for_a_tampered_certificate_shows_nothing(client, cert, vol, monkeypatch):
    monkeypatch.setattr(services.signing, "signature_ok", lambda c: False)
    page = client.get(f"/verify/{cert.number}/").content.decode()
    assert 'data-verdict="tampered"' in page
    assert vol[1].number not in page


def test_staff_list_is_scoped(client, login, cast, cert):
    login(cast.station_admin)
    assert cert.number in client.get("/certificates/").content.decode()
    login(cast.outsider)
    assert cert.number not in client.get("/certificates/").content.decode()
    login(cast.county_admin)
    assert (
        cert.number in client.get("/certificates/", {"q": cert.volunteer_number}).content.decode()
    )
    assert cert.number not in client.get("/certificates/", {"q": "无此人"}).content.decode()


def _many(cast, net, start: int, n: int):
    for i in range(start, start + n):
        user, volunteer = volunteer_with_login(cast.county_admin, i)
        record(volunteer, net.station, 60)
        first = services.certificate_request(
            actor=user, unit=net.station, period_start=START, period_end=END
        )
        services.certificate_issue_request(actor=cast.county_admin, request=first)
        services.certificate_request(
            actor=user, unit=net.station, period_start=START, period_end=END
        )


def test_list_pages_take_a_constant_number_of_queries(client, login, cast, net):
    _many(cast, net, 10, 2)
    login(cast.county_admin)
    with CaptureQueriesContext(connection) as small:
        client.get("/certificates/")
        client.get("/api/certificates")
        client.get("/api/certificates/requests")
    _many(cast, net, 20, 4)
    with CaptureQueriesContext(connection) as big:
        page = client.get("/certificates/").content.decode()
        assert len(re.findall(r'id="request-\d+"', page)) == 6
        client.get("/api/certificates")
        client.get("/api/certificates/requests")
    assert len(big) == len(small)


def test_mine_takes_a_constant_number_of_queries(client, login, cast, net, vol):
    user, volunteer = vol

    def add(n):
        for _ in range(n):
            record(volunteer, net.station, 60)
            cert = issue(cast.county_admin, net.station, volunteer)
            services.certificate_revoke(actor=cast.county_admin, certificate=cert, reason="重开")

    add(1)
    login(user)
    with CaptureQueriesContext(connection) as small:
        client.get("/certificates/mine/")
        client.get("/api/certificates/mine")
    add(3)
    with CaptureQueriesContext(connection) as big:
        client.get("/certificates/mine/")
        client.get("/api/certificates/mine")
    assert len(big) == len(small)
    assert Certificate.objects.count() == 4


def test_direct_issue_from_the_staff_page(client, login, cast, net, vol, hours):
    login(cast.station_admin)
    page = client.get("/certificates/").content.decode()
    assert 'id="direct-issue"' in page
    assert f'<option value="{net.station.pk}"' in page
    assert f'<option value="{net.institute.pk}"' not in page  # above the station admin
    data = {"unit": net.station.pk, "period_start": START, "period_end": END}
    before = state()
    for bad in ({"volunteer_number": "0000"}, {"volunteer_number": vol[1].number, "unit": 0}):
        response = client.post("/certificates/issue/", {**data, **bad}, follow=True)
        assert response.status_code == 200
    assert state() == before
    response = client.post("/certificates/issue/", {**data, "volunteer_number": vol[1].number})
    cert = Certificate.objects.get()
    assert response["Location"] == f"/certificates/{cert.pk}/"
    assert cert.minutes == 270 and cert.request_id is None


@pytest.mark.parametrize(("who", "status"), [("supervisor", 403), ("outsider", 302)])
def test_direct_issue_refused(client, login, cast, net, vol, hours, who, status):
    """The supervisor has no form (403 on post); the other county's admin has one, for
    their own units only: the station is not a choice (the post changes nothing)."""
    login(getattr(cast, who))
    page = client.get("/certificates/").content.decode()
    assert f'<option value="{net.station.pk}"' not in page
    assert ('id="direct-issue"' in page) == (who == "outsider")
    before = state()
    response = client.post(
        "/certificates/issue/",
        {
            "volunteer_number": vol[1].number,
            "unit": net.station.pk,
            "period_start": START,
            "period_end": END,
        },
    )
    assert response.status_code == status
    assert state() == before
