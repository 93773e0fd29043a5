"""The fund API at /api/fund: funds in scope with their money, donations (list, record,
refund) for staff, and the public disclosure (no login) — through the same services and
selectors as the pages. Amounts are integer fen."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging, input_of, input_schema
from wenming.core.errors import NotFound
from wenming.fund import selectors, services
from wenming.fund.models import Donation, Fund, FundEntry

router = Router(tags=["fund"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}

# The body of recording a donation: the service's DonationInput, field for field.
if TYPE_CHECKING:
    FundDonationIn = services.DonationInput
else:
    FundDonationIn = input_schema(services.DonationInput, "FundDonationIn")


class FundOut(Schema):
    id: int
    name: str
    purpose: str
    unit_id: int
    unit_name: str
    region_code: str
    balance: int
    unrestricted: int
    donated: int
    restricted: dict[int, int]

    @staticmethod
    def from_fund(fund: Fund, totals: selectors.Totals | None = None) -> FundOut:
        totals = totals or selectors.fund_totals(fund)
        return FundOut(
            id=fund.pk,
            name=fund.name,
            purpose=fund.purpose,
            unit_id=fund.unit_id,
            unit_name=fund.unit.name,
            region_code=fund.region_id,
            balance=totals.balance,
            unrestricted=totals.unrestricted,
            donated=totals.donated,
            restricted=totals.restricted,
        )


class FundIn(Schema):
    unit_id: int
    name: str
    purpose: str = ""


class FundDonationOut(Schema):
    id: int
    receipt_number: str
    donor_kind: str
    donor_name: str
    publish_name: bool
    amount: int
    channel: str
    project_id: int | None
    received_on: dt.date
    note: str
    refunded: bool
    entry_seq: int

    @staticmethod
    def resolve_refunded(obj: Donation) -> bool:
        known = getattr(obj, "is_refunded", None)  # annotated by donation_list
        if known is not None:
            return bool(known)
        return FundEntry.objects.filter(reverses_id=obj.entry_id).exists()

    @staticmethod
    def resolve_entry_seq(obj: Donation) -> int:
        return obj.entry.seq


class FundRefundIn(Schema):
    reason: str


class FundEntryOut(Schema):
    seq: int
    kind: str
    amount: int
    project_id: int | None
    reference: str
    donor: str
    reverses_seq: int | None
    created_at: dt.datetime
    prev_hash: str
    entry_hash: str

    @staticmethod
    def resolve_donor(obj: FundEntry) -> str:
        donation = getattr(obj, "donation", None)  # select_related; None when not a gift
        return donation.public_donor if donation is not None else ""

    @staticmethod
    def resolve_reverses_seq(obj: FundEntry) -> int | None:
        return obj.reverses.seq if obj.reverses_id is not None and obj.reverses else None


@router.get("/funds", response=list[FundOut])
def list_funds(request: HttpRequest) -> object:
    funds = list(selectors.fund_list(actor=request.user)[:100])
    totals = selectors.totals_of(funds)
    return [FundOut.from_fund(f, totals[f.pk]) for f in funds]


@router.post("/funds", response={201: FundOut, **ERRORS})
def create_fund(request: HttpRequest, payload: FundIn) -> object:
    fund = services.fund_create(
        actor=request.user, unit_id=payload.unit_id, name=payload.name, purpose=payload.purpose
    )
    return Status(201, FundOut.from_fund(fund))


@router.get("/funds/{fund_id}", response={200: FundOut, 404: ErrorOut})
def get_fund(request: HttpRequest, fund_id: int) -> object:
    return FundOut.from_fund(selectors.fund_get(actor=request.user, fund_id=fund_id))


@router.get("/funds/{fund_id}/donations", response={200: list[FundDonationOut], 404: ErrorOut})
@paginate(Paging)
def list_donations(request: HttpRequest, fund_id: int, q: str = "") -> object:
    fund = selectors.fund_get(actor=request.user, fund_id=fund_id)
    return selectors.donation_list(actor=request.user, fund=fund, search=q)


@router.post("/funds/{fund_id}/donations", response={201: FundDonationOut, **ERRORS})
def record_donation(request: HttpRequest, fund_id: int, payload: FundDonationIn) -> object:
    fund = selectors.fund_get(actor=request.user, fund_id=fund_id)
    donation = services.donation_record(
        actor=request.user, fund=fund, data=input_of(payload, services.DonationInput)
    )
    return Status(201, donation)


@router.post("/donations/{donation_id}/refund", response={200: FundDonationOut, **ERRORS})
def refund_donation(request: HttpRequest, donation_id: int, payload: FundRefundIn) -> object:
    donation = Donation.objects.select_related("fund", "entry").filter(pk=donation_id).first()
    if donation is None:
        raise NotFound(_("找不到该笔捐赠。"))
    selectors.fund_get(actor=request.user, fund_id=donation.fund_id)  # outsiders: 404
    services.donation_refund(actor=request.user, donation=donation, reason=payload.reason)
    return donation


@router.get("/public/{fund_id}", response={200: FundOut, 404: ErrorOut}, auth=None)
def public_fund(request: HttpRequest, fund_id: int) -> object:
    return FundOut.from_fund(selectors.public_fund_get(fund_id=fund_id))


@router.get(
    "/public/{fund_id}/entries", response={200: list[FundEntryOut], 404: ErrorOut}, auth=None
)
@paginate(Paging)
def public_entries(request: HttpRequest, fund_id: int) -> object:
    """Every entry with its hashes, newest first: enough to recompute the chain."""
    fund = selectors.public_fund_get(fund_id=fund_id)
    return selectors.public_entries(fund).select_related("reverses")
