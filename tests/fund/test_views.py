"""Fund pages: the manager books a donation in yuan, readers only read, outsiders learn
nothing, and the public disclosure names a donor only with consent."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.fund.test_services import TABLES, give
from tests.shared import db_unchanged, queries_for
from wenming.core.roles import Role
from wenming.fund import services
from wenming.fund.models import Donation, FundEntry


@pytest.fixture
def manager(net):
    return make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", net.center)


@pytest.fixture
def fund(manager, net):
    return services.fund_create(actor=manager, unit_id=net.center.pk, name="贾汪区文明实践基金")


def post_donation(client, fund, **overrides):
    data = {"amount": "1234.56", "donor_kind": "individual", "donor_name": "王建国",
            "publish_name": "on", "channel": "bank", "project": "", "received_on": "2026-12-01",
            "note": ""}  # fmt: skip
    data.update(overrides)
    return client.post(f"/fund/{fund.pk}/", data)


def test_a_manager_books_a_donation_in_yuan(login, manager, fund):
    client = login(manager)
    response = post_donation(client, fund)
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.amount == 123456 and donation.donor_name == "王建国"
    page = client.get(response.url).content.decode()
    assert donation.receipt_number in page and "1,234.56" in page and 'id="donation-form"' in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "金额须大于零"), ("-5", "金额须大于零"), ("1.234", "最多两位小数"),
     ("abc", "请输入金额"), ("99999999999", "金额过大")],
)  # fmt: skip
def test_a_bad_amount_is_explained_and_changes_nothing(login, manager, fund, amount, message):
    client = login(manager)
    with db_unchanged(*TABLES):
        response = post_donation(client, fund, amount=amount)
    assert response.status_code == 400 and message in response.content.decode()


def test_a_missing_donor_name_is_explained(login, manager, fund):
    client = login(manager)
    with db_unchanged(*TABLES):
        response = post_donation(client, fund, donor_name="")
    assert response.status_code == 400 and "请填写捐赠人姓名或单位名称" in response.content.decode()


def test_readers_read_and_outsiders_learn_nothing(cast, login, manager, fund):
    give(manager, fund, 50_000)
    client = login(cast.county_admin)
    page = client.get(f"/fund/{fund.pk}/")
    assert page.status_code == 200 and "王建国" in page.content.decode()
    assert 'id="donation-form"' not in page.content.decode()
    with db_unchanged(*TABLES):
        assert post_donation(client, fund).status_code == 403
    client = login(cast.outsider)
    assert client.get(f"/fund/{fund.pk}/").status_code == 404
    with db_unchanged(*TABLES):
        assert post_donation(client, fund).status_code == 404
    assert login(cast.station_admin).get("/fund/").status_code == 403


def test_a_refund_from_the_page(login, manager, fund):
    donation = give(manager, fund, 20_000)
    client = login(manager)
    response = client.post(f"/fund/donations/{donation.pk}/refund/", {"reason": "重复登记"})
    assert response.status_code == 302
    assert FundEntry.objects.filter(reverses=donation.entry).exists()
    client.post(f"/fund/donations/{donation.pk}/refund/", {"reason": "再退"})
    assert FundEntry.objects.count() == 2  # refunded once


def test_the_public_page_needs_no_login_and_hides_unconsented_names(client, manager, fund):
    give(manager, fund, 10_000, donor_name="王建国", publish_name=True)
    give(manager, fund, 20_000, donor_name="李秀兰", publish_name=False)
    give(manager, fund, 500, donor_kind="anonymous", donor_name="")
    page = client.get(f"/fund/public/{fund.pk}/").content.decode()
    assert "王建国" in page and "李秀兰" not in page and "爱心人士" in page
    assert "305.00" in page  # the balance, in yuan
    head = FundEntry.objects.order_by("-seq").first()
    assert head.entry_hash in page and 'id="fund-chart-data"' in page
    assert "贾汪区文明实践基金" in client.get("/fund/public/").content.decode()
    assert client.get("/fund/public/99999/").status_code == 404


def test_pages_take_a_constant_number_of_queries(client, login, manager, fund):
    give(manager, fund, 100)
    staff = login(manager)
    few = (queries_for(staff, f"/fund/{fund.pk}/"), queries_for(client, f"/fund/public/{fund.pk}/"))
    for n in range(15):
        give(manager, fund, 100 + n, donor_name=f"捐赠人{n}")
    many = (
        queries_for(staff, f"/fund/{fund.pk}/"),
        queries_for(client, f"/fund/public/{fund.pk}/"),
    )
    assert few == many


def test_fund_lists_take_a_constant_number_of_queries(login, manager, fund, net):
    give(manager, fund, 100)
    staff = login(manager)
    urls = ("/fund/", "/fund/public/", "/api/fund/funds")
    few = [queries_for(staff, url) for url in urls]
    for n in range(3):
        more = services.fund_create(actor=manager, unit_id=net.center.pk, name=f"专项基金{n}")
        give(manager, more, 100 + n)
    assert [queries_for(staff, url) for url in urls] == few
    assert "专项基金2" in staff.get("/fund/public/").content.decode()
