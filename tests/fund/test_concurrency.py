"""On PostgreSQL: donations booked at the same moment keep one unforked chain and
gap-free receipt numbers; refunds of one donation race and only one wins."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import REGIONS, make_user
from wenming.core.roles import Role
from wenming.fund import selectors, services
from wenming.fund.models import Donation, FundEntry
from wenming.network.models import Unit, UnitKind
from wenming.network.services import regions_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _run(workers: int, job) -> list[BaseException]:
    from django.db import connections

    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            job(n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def setup():
    regions_import(actor=None, rows=REGIONS)
    center = Unit.objects.create(kind=UnitKind.CENTER, name="中心", region_id="320305000000")
    manager = make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", center)
    fund = services.fund_create(actor=manager, unit_id=center.pk, name="基金")
    return manager, fund


def _give(manager, fund, n: int) -> Donation:
    return services.donation_record(
        actor=manager,
        fund=fund,
        data=services.DonationInput(
            amount=100 * (n + 1), donor_kind="individual", channel="bank", donor_name=f"捐赠人{n}"
        ),
    )


def test_twenty_donations_at_once_keep_one_chain(setup):
    manager, fund = setup
    assert _run(20, lambda n: _give(manager, fund, n)) == []
    assert sorted(FundEntry.objects.values_list("seq", flat=True)) == list(range(1, 21))
    receipts = sorted(Donation.objects.values_list("receipt_number", flat=True))
    assert receipts == [f"JJ{fund.pk:04d}-{n:06d}" for n in range(1, 21)]
    assert selectors.fund_totals(fund).balance == sum(100 * (n + 1) for n in range(20))
    assert selectors.fund_verify(fund).ok


def test_racing_refunds_of_one_donation_pay_back_once(setup):
    manager, fund = setup
    donation = _give(manager, fund, 9)
    errors = _run(
        8,
        lambda n: services.donation_refund(
            actor=manager, donation=Donation.objects.get(pk=donation.pk), reason=f"退款{n}"
        ),
    )
    assert len(errors) == 7
    assert FundEntry.objects.filter(reverses_id=donation.entry_id).count() == 1
    assert selectors.fund_totals(fund).balance == 0
    assert selectors.fund_verify(fund).ok
