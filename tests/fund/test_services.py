"""The practice fund: setting up a fund, booking donations into its hash-chained ledger,
refunds by reversal; bad input and the wrong people change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction

from tests.conftest import make_user
from tests.shared import db_unchanged
from wenming.activities.models import Project
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.fund import selectors, services
from wenming.fund.models import MAX_AMOUNT_FEN, Donation, Fund, FundEntry

TABLES = (Fund, Donation, FundEntry)


@pytest.fixture
def manager(net):
    return make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", net.center)


@pytest.fixture
def fund(manager, net):
    return services.fund_create(
        actor=manager, unit_id=net.center.pk, name="贾汪区新时代文明实践基金", purpose="孵化项目"
    )


@pytest.fixture
def project(net):
    return Project.objects.create(name="幸福巴士", unit=net.center, region_id="320305000000")


def give(manager, fund, amount=10_000, **overrides):
    values = {"amount": amount, "donor_kind": "individual", "channel": "bank",
              "donor_name": "王建国", "publish_name": True}  # fmt: skip
    values.update(overrides)
    return services.donation_record(actor=manager, fund=fund, data=services.DonationInput(**values))


def test_a_donation_is_booked_with_a_receipt_and_a_ledger_entry(manager, fund, project):
    first = give(manager, fund, 5_000_000)
    second = give(manager, fund, 200_000, donor_kind="anonymous", donor_name="某人",
                  project_id=project.pk)  # fmt: skip
    assert first.receipt_number == f"JJ{fund.pk:04d}-000001"
    assert second.receipt_number == f"JJ{fund.pk:04d}-000002"
    assert second.donor_name == "" and not second.publish_name  # anonymous keeps no name
    assert [e.seq for e in FundEntry.objects.order_by("seq")] == [1, 2]
    assert first.entry.amount == 5_000_000 and first.entry.reference == first.receipt_number
    totals = selectors.fund_totals(fund)
    assert totals.balance == 5_200_000 and totals.unrestricted == 5_000_000
    assert totals.restricted == {project.pk: 200_000} and totals.donated == 5_200_000
    assert selectors.fund_verify(fund).ok
    verbs = list(
        AuditEvent.objects.filter(verb__startswith="fund.")
        .order_by("id")
        .values_list("verb", flat=True)
    )
    assert verbs == ["fund.create", "fund.donation", "fund.donation"]


def test_the_public_sees_a_donor_only_with_consent(manager, fund):
    assert give(manager, fund, donor_name="王建国", publish_name=True).public_donor == "王建国"
    assert give(manager, fund, donor_name="李秀兰", publish_name=False).public_donor == "爱心人士"
    hidden = give(manager, fund, donor_kind="enterprise", donor_name="某公司", publish_name=False)
    assert hidden.public_donor == "爱心企业"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -100}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": "100"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": MAX_AMOUNT_FEN + 1}, "amount"),
        ({"donor_kind": "alien"}, "donor_kind"),
        ({"channel": "bitcoin"}, "channel"),
        ({"donor_name": ""}, "donor_name"),
        ({"donor_name": "王" * 101}, "donor_name"),
        ({"project_id": 999_999}, "project_id"),
        ({"received_on": dt.date(2999, 1, 1)}, "received_on"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(manager, fund, overrides, field):
    give(manager, fund)  # a ledger with an entry already
    with db_unchanged(*TABLES), pytest.raises(RuleViolation) as caught:
        give(manager, fund, **overrides)
    assert field in {v.field for v in getattr(caught.value, "violations", [caught.value])}


def test_every_problem_is_reported_at_once(manager, fund):
    with pytest.raises(RuleViolation) as caught:
        give(manager, fund, amount=-1, channel="x", donor_name="")
    assert {v.field for v in caught.value.violations} == {"amount", "channel", "donor_name"}


def test_the_largest_amount_is_accepted(manager, fund):
    assert give(manager, fund, MAX_AMOUNT_FEN).amount == MAX_AMOUNT_FEN


def test_outsiders_and_readers_cannot_book(cast, net, manager, fund):
    for actor, error in [
        (cast.outsider, NotFound),  # the neighbouring county
        (cast.station_admin, NotFound),  # no fund permission at all
        (cast.county_admin, Forbidden),  # sees the fund, read-only
        (cast.supervisor, Forbidden),
    ]:
        with db_unchanged(*TABLES), pytest.raises(error):
            give(actor, fund)
    with pytest.raises(NotFound):
        selectors.fund_get(actor=cast.outsider, fund_id=fund.pk)
    assert selectors.fund_get(actor=cast.county_admin, fund_id=fund.pk) == fund
    assert list(selectors.fund_list(actor=cast.supervisor)) == [fund]
    assert list(selectors.fund_list(actor=cast.station_admin)) == []


def test_only_a_fund_manager_sets_up_a_fund(cast, net, manager, fund):
    with db_unchanged(*TABLES), pytest.raises(Forbidden):
        services.fund_create(actor=cast.county_admin, unit_id=net.center.pk, name="另一个基金")
    with db_unchanged(*TABLES), pytest.raises(RuleViolation):
        services.fund_create(actor=manager, unit_id=net.center.pk, name=fund.name)
    with db_unchanged(*TABLES), pytest.raises(NotFound):
        services.fund_create(actor=manager, unit_id=net.other_center.pk, name="外县基金")


def test_a_refund_reverses_the_entry_once(manager, fund):
    donation = give(manager, fund, 30_000)
    with db_unchanged(*TABLES), pytest.raises(RuleViolation):
        services.donation_refund(actor=manager, donation=donation, reason="  ")
    reversal = services.donation_refund(actor=manager, donation=donation, reason="重复登记")
    assert reversal.amount == -30_000 and reversal.reverses_id == donation.entry_id
    assert selectors.fund_totals(fund).balance == 0
    with db_unchanged(*TABLES), pytest.raises(RuleViolation, match="已经退款"):
        services.donation_refund(actor=manager, donation=donation, reason="再退一次")
    assert selectors.fund_verify(fund).ok


def test_a_refund_needs_the_money_still_there(manager, fund, project):
    """Money restricted to a project cannot pay back an unrestricted gift."""
    unrestricted = give(manager, fund, 10_000)
    give(manager, fund, 50_000, project_id=project.pk)
    services.donation_refund(actor=manager, donation=unrestricted, reason="捐赠人要求退回")
    other = give(manager, fund, 10_000)
    assert selectors.fund_totals(fund).unrestricted == 10_000
    services.donation_refund(actor=manager, donation=other, reason="登记错误")
    assert selectors.fund_totals(fund).unrestricted == 0
    assert selectors.fund_totals(fund).restricted == {project.pk: 50_000}


def test_the_database_refuses_to_edit_the_ledger_or_a_donation(manager, fund):
    donation = give(manager, fund, 10_000)
    for query, change in (
        (FundEntry.objects.filter(pk=donation.entry_id), {"memo": "改过了"}),
        (Donation.objects.filter(pk=donation.pk), {"amount": 1}),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            query.update(**change)
    donation.refresh_from_db()
    assert donation.amount == 10_000 and selectors.fund_verify(fund).ok


def test_verify_names_the_first_altered_entry(manager, fund):
    """An entry changed behind the database's back (the trigger dropped first, as someone
    with the database's keys could) is found by recomputing the chain."""
    from django.db import connection

    for n in range(3):
        give(manager, fund, 1_000 * (n + 1))
    second = FundEntry.objects.get(seq=2)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS fund_fundentry_append_only" + (
            " ON fund_fundentry" if connection.vendor == "postgresql" else ""))  # fmt: skip
        cursor.execute("UPDATE fund_fundentry SET amount = 999999 WHERE id = %s", [second.pk])
    result = selectors.fund_verify(fund)
    assert not result.ok and result.first_bad_seq == 2 and result.reason == "altered"


def test_the_demo_seed_books_through_the_services(db):
    from wenming.core.demo import demo_load

    demo_load()
    fund = Fund.objects.get(name="贾汪区新时代文明实践基金")
    totals = selectors.fund_totals(fund)
    assert totals.balance == 73_300_00 and len(totals.restricted) == 1
    assert selectors.fund_verify(fund).ok
    assert demo_load()["fund"] == {"funds": 0, "donations": 0}  # idempotent


def test_a_donation_is_restricted_only_to_a_project_of_the_funds_region(manager, fund, net):
    elsewhere = Project.objects.create(
        name="外县项目", unit=net.other_center, region_id="320311000000"
    )
    with db_unchanged(*TABLES), pytest.raises(RuleViolation) as caught:
        give(manager, fund, project_id=elsewhere.pk)
    assert {v.field for v in caught.value.violations} == {"project_id"}


def test_ledger_memos_are_chinese_whatever_the_page_language(manager, fund):
    """A memo is hashed with its entry: it must not depend on who booked it in English."""
    from django.utils import translation

    with translation.override("en"):
        donation = give(manager, fund, 1_000)
        refund = services.donation_refund(actor=manager, donation=donation, reason="重复")
    assert donation.entry.memo == f"捐赠 {donation.receipt_number}"
    assert refund.memo == f"退款 {donation.receipt_number}：重复"
