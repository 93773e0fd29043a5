"""Writes of the fund: setting up a fund, recording a donation, refunding one.

Every movement of money is one entry in the fund's ledger (`core.ledger`), appended
under the chain's lock together with whatever it depends on (the next receipt number,
the balance a refund needs), in one transaction with its audit event. Amounts are
integer fen; a refused write changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor, user_of
from wenming.activities.models import Project
from wenming.core import regions as rc
from wenming.core.access import actor_label, subtree_q
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound, RuleViolation, RuleViolations
from wenming.core.ledger import ledger_append, ledger_lock, ledger_reverse
from wenming.core.text import NOTE_MAX, clean_text
from wenming.fund import permissions
from wenming.fund.models import (
    MAX_AMOUNT_FEN,
    Donation,
    DonationChannel,
    DonorKind,
    EntryKind,
    Fund,
    FundEntry,
)
from wenming.network.models import Unit

T = TypeVar("T")
NAME_MAX = 100
MEMO_MAX = 200


def check_amount(amount: object, *, field: str = "amount") -> int:
    """An amount of money in fen: a whole number above zero, at most MAX_AMOUNT_FEN."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise RuleViolation(_("金额须为整数（以分计）。"), field=field, code="bad_amount")
    if amount <= 0:
        raise RuleViolation(_("金额须大于零。"), field=field, code="bad_amount")
    if amount > MAX_AMOUNT_FEN:
        raise RuleViolation(_("金额过大，请核对。"), field=field, code="bad_amount")
    return amount


@transaction.atomic
def fund_create(*, actor: Actor, unit_id: int, name: str, purpose: str = "") -> Fund:
    """A new fund of a unit, by a fund manager over the unit's region."""
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound(_("找不到该单位。"))
    permissions.require_manager_at(actor, unit.region_id)
    name = clean_text(name, field="name", label=_("基金名称"), max_length=NAME_MAX)
    if not name:
        raise RuleViolation(_("请填写基金名称。"), field="name")
    if Fund.objects.filter(unit=unit, name=name).exists():
        raise RuleViolation(_("本单位已有同名基金。"), field="name")
    fund = Fund.objects.create(
        unit=unit,
        region_id=unit.region_id,
        name=name,
        purpose=clean_text(purpose, field="purpose", label=_("用途"), max_length=NOTE_MAX),
    )
    audit_record(
        actor=actor, verb="fund.create", target=fund, region_code=fund.region_id,
        changes={"name": [None, name]},
    )  # fmt: skip
    return fund


@dataclass
class DonationInput:
    amount: int  # fen
    donor_kind: str
    channel: str
    donor_name: str = ""
    publish_name: bool = False
    project_id: int | None = None
    received_on: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class _Donation:
    amount: int
    donor_name: str
    publish_name: bool
    project: Project | None
    received_on: dt.date
    note: str


def _clean_donation(fund: Fund, data: DonationInput, today: dt.date) -> _Donation:
    """The input checked field by field; every problem is reported at once."""
    errors: list[RuleViolation] = []

    def attempt(check: Callable[[], T], fallback: T) -> T:
        try:
            return check()
        except RuleViolation as exc:
            errors.append(exc)
            return fallback

    amount = attempt(lambda: check_amount(data.amount), 0)
    if data.donor_kind not in DonorKind.values:
        errors.append(RuleViolation(_("请选择捐赠人类型。"), field="donor_kind"))
    if data.channel not in DonationChannel.values:
        errors.append(RuleViolation(_("请选择捐赠方式。"), field="channel"))
    name = attempt(
        lambda: clean_text(
            data.donor_name, field="donor_name", label=_("捐赠人"), max_length=NAME_MAX
        ),
        "",
    )
    if data.donor_kind == DonorKind.ANONYMOUS:
        name = ""
    elif not name and not _errors_on(errors, "donor_name"):
        errors.append(RuleViolation(_("请填写捐赠人姓名或单位名称。"), field="donor_name"))
    project = None
    if data.project_id is not None:
        # A project of the fund's own region (a county fund: the county's projects).
        project = Project.objects.filter(
            subtree_q("region_id", rc.prefix_of(fund.region_id)),
            pk=data.project_id,
            is_active=True,
        ).first()
        if project is None:
            errors.append(RuleViolation(_("找不到该项目。"), field="project_id"))
    received = data.received_on or today
    if received > today:
        errors.append(RuleViolation(_("收到日期不能晚于今天。"), field="received_on"))
    note = attempt(
        lambda: clean_text(data.note, field="note", label=_("备注"), max_length=MEMO_MAX), ""
    )
    if errors:
        raise RuleViolations(errors)
    return _Donation(amount, name, bool(data.publish_name) and bool(name), project, received, note)


def _errors_on(errors: list[RuleViolation], field: str) -> bool:
    return any(e.field == field for e in errors)


# Ledger memos are hashed with their entry, so they are always written in Chinese (the
# source language), whatever the language of the page that booked them.
DONATION_MEMO = "捐赠 %(receipt)s"
REFUND_MEMO = "退款 %(receipt)s：%(reason)s"


def _receipt_number(fund: Fund) -> str:
    """The fund's next receipt number, gap-free: its counter moved by one in this
    transaction (the caller holds the chain's lock; the row update would queue anyway)."""
    Fund.objects.filter(pk=fund.pk).update(receipts_issued=F("receipts_issued") + 1)
    issued = Fund.objects.filter(pk=fund.pk).values_list("receipts_issued", flat=True).get()
    return f"JJ{fund.pk:04d}-{issued:06d}"


@transaction.atomic
def donation_record(*, actor: Actor, fund: Fund, data: DonationInput) -> Donation:
    """Book a donation (staff recording a bank transfer, cash or goods): its ledger
    entry and receipt number, in one step."""
    permissions.require_manager(actor, fund)
    if not fund.is_active:
        raise RuleViolation(_("该基金已停用。"))
    clean = _clean_donation(fund, data, timezone.localdate())
    ledger_lock(FundEntry, fund.chain)
    receipt = _receipt_number(fund)
    entry = ledger_append(
        FundEntry,
        chain=fund.chain,
        amount=clean.amount,
        kind=EntryKind.DONATION,
        memo=DONATION_MEMO % {"receipt": receipt},
        actor_label=actor_label(actor),
        fund=fund,
        project=clean.project,
        reference=receipt,
    )
    donation = Donation.objects.create(
        fund=fund,
        receipt_number=receipt,
        donor_kind=data.donor_kind,
        donor_name=clean.donor_name,
        publish_name=clean.publish_name,
        amount=clean.amount,
        channel=data.channel,
        project=clean.project,
        received_on=clean.received_on,
        note=clean.note,
        recorded_by=user_of(actor),
        entry=entry,
    )
    audit_record(
        actor=actor,
        verb="fund.donation",
        target=donation,
        region_code=fund.region_id,
        changes={"amount": donation.amount, "receipt": receipt, "channel": data.channel},
    )
    return donation


def _available(fund: Fund, project_id: int | None) -> int:
    """What the fund holds for a project (money restricted to it) or, without one, its
    unrestricted money: the sum of the matching ledger entries."""
    entries = FundEntry.objects.filter(fund=fund)
    entries = (
        entries.filter(project__isnull=True)
        if project_id is None
        else entries.filter(project_id=project_id)
    )
    return int(entries.aggregate(s=Sum("amount"))["s"] or 0)


@transaction.atomic
def donation_refund(*, actor: Actor, donation: Donation, reason: str) -> FundEntry:
    """Give a donation back (booked in error, or returned at the donor's request): a
    reversing entry, only while the fund still holds that money, once."""
    fund = donation.fund
    permissions.require_manager(actor, fund)
    reason = clean_text(reason, field="reason", label=_("退款原因"), max_length=MEMO_MAX)
    if not reason:
        raise RuleViolation(_("请写明退款原因。"), field="reason")
    ledger_lock(FundEntry, fund.chain)
    entry = donation.entry
    if FundEntry.objects.filter(reverses=entry).exists():
        raise RuleViolation(_("该笔捐赠已经退款。"), code="already_reversed")
    if _available(fund, entry.project_id) < entry.amount:
        raise RuleViolation(_("基金余额不足，不能退回这笔捐赠。"), code="insufficient")
    reversal = ledger_reverse(
        FundEntry,
        entry=entry,
        memo=REFUND_MEMO % {"receipt": donation.receipt_number, "reason": reason},
        actor_label=actor_label(actor),
        fund=fund,
        project_id=entry.project_id,
        reference=donation.receipt_number,
    )
    audit_record(
        actor=actor,
        verb="fund.refund",
        target=donation,
        region_code=fund.region_id,
        changes={"amount": -entry.amount},
        note=reason,
    )
    return reversal
