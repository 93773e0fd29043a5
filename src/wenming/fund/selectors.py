"""Reads of the fund, scoped to FUND_VIEW (donors' names are for staff who may see
them; the public disclosure has its own reads that show them only with consent)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from wenming.accounts.types import Actor
from wenming.core.access import in_scope, scoped
from wenming.core.errors import NotFound
from wenming.core.ledger import Verification, ledger_verify
from wenming.core.models import LedgerCheckpoint
from wenming.core.roles import Perm
from wenming.fund.models import Donation, Fund, FundEntry


def fund_list(*, actor: Actor) -> QuerySet[Fund]:
    return scoped(Fund.objects.select_related("unit"), actor, Perm.FUND_VIEW, "region_id")


def fund_get(*, actor: Actor, fund_id: int) -> Fund:
    fund = Fund.objects.select_related("unit").filter(pk=fund_id).first()
    if fund is None or not in_scope(actor, Perm.FUND_VIEW, fund.region_id):
        raise NotFound(_("找不到该基金，或它不在您的管辖范围内。"))
    return fund


@dataclass(frozen=True)
class Totals:
    """A fund's money, from its ledger (fen): everything it holds, what is free for any
    use, and what donors restricted to each project."""

    balance: int
    unrestricted: int
    restricted: dict[int, int]
    donated: int


def fund_totals(fund: Fund) -> Totals:
    """Two grouped queries, however long the ledger."""
    return totals_of([fund])[fund.pk]


def totals_of(funds: list[Fund]) -> dict[int, Totals]:
    """The totals of many funds in two grouped queries (lists, the API)."""
    ids = [f.pk for f in funds]
    by_fund: dict[int, dict[int | None, int]] = {pk: {} for pk in ids}
    for fund_id, project_id, total in (
        FundEntry.objects.filter(fund_id__in=ids)
        .values_list("fund_id", "project_id")
        .annotate(s=Sum("amount"))
        .values_list("fund_id", "project_id", "s")
        .order_by()
    ):
        by_fund[fund_id][project_id] = int(total or 0)
    donated = dict(
        FundEntry.objects.filter(fund_id__in=ids, kind="donation", amount__gt=0)
        .values_list("fund_id")
        .annotate(s=Sum("amount"))
        .values_list("fund_id", "s")
        .order_by()
    )
    result = {}
    for pk, by_project in by_fund.items():
        unrestricted = by_project.pop(None, 0)
        restricted = {int(k): v for k, v in by_project.items() if k is not None}
        result[pk] = Totals(
            balance=unrestricted + sum(restricted.values()),
            unrestricted=unrestricted,
            restricted=restricted,
            donated=int(donated.get(pk) or 0),
        )
    return result


def donation_list(*, actor: Actor, fund: Fund, search: str = "") -> QuerySet[Donation]:
    if not in_scope(actor, Perm.FUND_VIEW, fund.region_id):
        raise NotFound(_("找不到该基金，或它不在您的管辖范围内。"))
    qs = (
        Donation.objects.filter(fund=fund)
        .select_related("project", "entry")
        .annotate(is_refunded=Exists(FundEntry.objects.filter(reverses_id=OuterRef("entry_id"))))
    )
    search = (search or "").strip()[:50]
    if search:
        qs = qs.filter(Q(donor_name__icontains=search) | Q(receipt_number__icontains=search))
    return qs


def fund_verify(fund: Fund) -> Verification:
    """Recompute the fund's hash chain (anyone may: it needs no key)."""
    return ledger_verify(FundEntry, chain=fund.chain)


def manageable_units(*, actor: Actor) -> list[tuple[int, str]]:
    """Units where the actor may set up a fund (centers and institutes in scope)."""
    from wenming.network.models import Unit, UnitKind

    units = scoped(
        Unit.objects.filter(kind__in=[UnitKind.CENTER, UnitKind.INSTITUTE]),
        actor,
        Perm.FUND_MANAGE,
        "region_id",
    ).order_by("region_id", "name")
    return [(u.pk, u.name) for u in units[:200]]


def project_choices(fund: Fund) -> list[tuple[int, str]]:
    """Active projects in the fund's region that a donation may be restricted to."""
    from wenming.activities.models import Project
    from wenming.core import regions as rc
    from wenming.core.access import subtree_q

    projects = Project.objects.filter(
        subtree_q("region_id", rc.prefix_of(fund.region_id)), is_active=True
    ).order_by("-is_brand", "name")
    return [(p.pk, p.name) for p in projects[:200]]


# ---------------------------------------------------------------- public disclosure (公示)


def public_funds() -> QuerySet[Fund]:
    return Fund.objects.filter(is_active=True).select_related("unit")


def public_fund_get(*, fund_id: int) -> Fund:
    fund = public_funds().filter(pk=fund_id).first()
    if fund is None:
        raise NotFound(_("找不到该基金。"))
    return fund


def public_entries(fund: Fund) -> QuerySet[FundEntry]:
    """Every entry of the fund, newest first, with what the public may know of it (the
    donation's donor, shown by name only with consent)."""
    return (
        FundEntry.objects.filter(fund=fund).select_related("project", "donation").order_by("-seq")
    )


@dataclass(frozen=True)
class Month:
    month: str  # "2026-12"
    money_in: int
    money_out: int


def monthly(fund: Fund) -> list[Month]:
    """Money in and out by month (fen), oldest first, in one grouped query."""
    from django.db.models.functions import TruncMonth

    rows = (
        FundEntry.objects.filter(fund=fund)
        .annotate(m=TruncMonth("created_at"))
        .values("m")
        .annotate(i=Sum("amount", filter=Q(amount__gt=0)), o=Sum("amount", filter=Q(amount__lt=0)))
        .order_by("m")
    )
    return [
        Month(row["m"].strftime("%Y-%m"), int(row["i"] or 0), -int(row["o"] or 0)) for row in rows
    ]


def chain_head(fund: Fund) -> FundEntry | None:
    return FundEntry.objects.filter(fund=fund).order_by("-seq").only("seq", "entry_hash").first()


def latest_checkpoint(fund: Fund) -> LedgerCheckpoint | None:
    """The last signed statement of the fund's chain head (core.checkpoints)."""
    from wenming.core import checkpoints

    return checkpoints.latest(FundEntry, fund.chain)


def checkpoints_of(fund: Fund) -> QuerySet[LedgerCheckpoint]:
    return LedgerCheckpoint.objects.filter(
        table=FundEntry._meta.db_table, chain=fund.chain
    ).order_by("seq")
