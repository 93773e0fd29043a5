"""The fund API: the same services, scoping and errors as the pages."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.fund.test_services import TABLES, give
from tests.shared import db_unchanged
from wenming.core.roles import Role
from wenming.fund import services
from wenming.fund.models import Donation


@pytest.fixture
def manager(net):
    return make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", net.center)


@pytest.fixture
def fund(manager, net):
    return services.fund_create(actor=manager, unit_id=net.center.pk, name="贾汪区文明实践基金")


BODY = {"amount": 123456, "donor_kind": "enterprise", "channel": "bank",
        "donor_name": "爱心企业甲", "publish_name": True}  # fmt: skip


def test_record_list_and_refund_through_the_api(login, manager, fund):
    client = login(manager)
    response = client.post(
        f"/api/fund/funds/{fund.pk}/donations", BODY, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == 123456 and body["receipt_number"].startswith("JJ")
    assert not body["refunded"] and body["entry_seq"] == 1
    listed = client.get(f"/api/fund/funds/{fund.pk}/donations").json()
    assert [d["id"] for d in listed["items"]] == [body["id"]]
    refund = client.post(f"/api/fund/donations/{body['id']}/refund", {"reason": "登记错误"},
                         content_type="application/json")  # fmt: skip
    assert refund.status_code == 200 and refund.json()["refunded"]
    got = client.get(f"/api/fund/funds/{fund.pk}").json()
    assert got["balance"] == 0 and got["donated"] == 123456


@pytest.mark.parametrize(
    ("change", "field"),
    [({"amount": -1}, "amount"), ({"amount": 10**12 + 1}, "amount"), ({"channel": "x"}, "channel")],
)
def test_bad_input_is_a_clear_400_and_changes_nothing(login, manager, fund, change, field):
    client = login(manager)
    with db_unchanged(*TABLES):
        response = client.post(f"/api/fund/funds/{fund.pk}/donations", {**BODY, **change},
                               content_type="application/json")  # fmt: skip
    assert response.status_code == 400 and response.json()["field"] == field


def test_scoping(cast, login, manager, fund):
    give(manager, fund)
    client = login(cast.county_admin)  # read-only
    assert client.get(f"/api/fund/funds/{fund.pk}/donations").status_code == 200
    with db_unchanged(*TABLES):
        response = client.post(f"/api/fund/funds/{fund.pk}/donations", BODY,
                               content_type="application/json")  # fmt: skip
    assert response.status_code == 403
    client = login(cast.outsider)
    assert client.get(f"/api/fund/funds/{fund.pk}").status_code == 404
    assert client.get("/api/fund/funds").json() == []


def test_the_public_entries_hide_unconsented_donors_and_carry_the_hashes(client, manager, fund):
    give(manager, fund, 100, donor_name="王建国", publish_name=True)
    give(manager, fund, 200, donor_name="李秀兰", publish_name=False)
    entries = client.get(f"/api/fund/public/{fund.pk}/entries").json()["items"]
    assert [e["donor"] for e in entries] == ["爱心人士", "王建国"]
    assert entries[0]["prev_hash"] == entries[1]["entry_hash"]
    assert client.get(f"/api/fund/public/{fund.pk}").json()["balance"] == 300
    assert Donation.objects.count() == 2
