"""The certificates API: request, list mine, the staff queue and list, issue (from a
request and directly), reject, revoke, the PDF, and the public verify."""

from __future__ import annotations

import pytest

from tests.certificates.helpers import END, START, state
from wenming.certificates.models import Certificate, RequestStatus


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def test_request_issue_verify_revoke(client, login, cast, net, vol, hours):
    user, volunteer = vol
    login(user)
    response = post(
        client,
        "/api/certificates/requests",
        {"unit_id": net.station.pk, "period_start": str(START), "period_end": str(END)},
    )
    assert response.status_code == 201, response.content
    req_id = response.json()["id"]
    assert client.get("/api/certificates/requests/mine").json()["items"][0]["id"] == req_id
    assert post(client, f"/api/certificates/requests/{req_id}/issue").status_code == 404

    login(cast.station_admin)
    assert [r["id"] for r in client.get("/api/certificates/requests").json()["items"]] == [req_id]
    response = post(client, f"/api/certificates/requests/{req_id}/issue")
    assert response.status_code == 201, response.content
    cert = response.json()
    assert cert["minutes"] == 270 and cert["request_id"] == req_id
    assert "signature" not in cert
    assert client.get("/api/certificates").json()["count"] == 1

    client.logout()
    body = client.get(f"/api/certificates/verify/{cert['number']}").json()
    assert body["verdict"] == "valid"
    assert body["masked_name"] == volunteer.name[0] + "*" * (len(volunteer.name) - 1)
    assert body["minutes"] == 270
    assert volunteer.name not in str(body)

    login(user)
    assert client.get("/api/certificates/mine").json()["items"][0]["number"] == cert["number"]
    response = client.get(f"/api/certificates/{cert['id']}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"

    login(cast.supervisor)
    before = state()
    assert (
        post(client, f"/api/certificates/{cert['id']}/revoke", {"reason": "x"}).status_code == 403
    )
    assert state() == before
    login(cast.station_admin)
    response = post(client, f"/api/certificates/{cert['id']}/revoke", {"reason": "记录有误"})
    assert response.status_code == 200 and response.json()["revoked_reason"] == "记录有误"
    client.logout()
    assert client.get(f"/api/certificates/verify/{cert['number']}").json()["verdict"] == "revoked"


def test_verify_unknown_is_public(client, db):
    body = client.get("/api/certificates/verify/320305-2026-000777").json()
    assert body == {
        "number": "320305-2026-000777",
        "verdict": "unknown",
        "masked_name": None,
        "id_type": None,
        "id_masked": None,
        "volunteer_number": None,
        "unit_name": None,
        "minutes": None,
        "period_start": None,
        "period_end": None,
        "issued_on": None,
        "revoked_on": None,
    }


def test_reject_needs_a_reason(client, login, cast, net, vol, hours):
    login(vol[0])
    req_id = post(
        client,
        "/api/certificates/requests",
        {"unit_id": net.station.pk, "period_start": str(START), "period_end": str(END)},
    ).json()["id"]
    login(cast.station_admin)
    response = post(client, f"/api/certificates/requests/{req_id}/reject", {"reason": ""})
    assert response.status_code == 400 and response.json()["field"] == "reason"
    response = post(client, f"/api/certificates/requests/{req_id}/reject", {"reason": "不符"})
    assert response.json()["status"] == RequestStatus.REJECTED


@pytest.mark.parametrize(
    ("who", "status"), [("outsider", 404), ("supervisor", 403), ("station_admin", 201)]
)
def test_issue_directly(client, login, cast, net, vol, hours, who, status):
    login(getattr(cast, who))
    before = state()
    response = post(
        client,
        "/api/certificates/issue",
        {
            "volunteer_number": vol[1].number,
            "unit_id": net.station.pk,
            "period_start": str(START),
            "period_end": str(END),
        },
    )
    assert response.status_code == status, response.content
    if status != 201:
        assert state() == before
    else:
        assert Certificate.objects.get().minutes == 270


def test_issue_directly_with_zero_hours_is_400(client, login, cast, net, vol):
    login(cast.station_admin)
    response = post(
        client,
        "/api/certificates/issue",
        {
            "volunteer_number": vol[1].number,
            "unit_id": net.station.pk,
            "period_start": str(START),
            "period_end": str(END),
        },
    )
    assert response.status_code == 400 and response.json()["code"] == "zero_hours"


def test_unauthenticated_is_401(client, db):
    assert client.get("/api/certificates/mine").status_code == 401
    assert post(client, "/api/certificates/requests", {}).status_code == 401
