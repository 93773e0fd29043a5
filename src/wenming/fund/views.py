"""Fund pages: the funds in the actor's scope, a fund's page (money in hand, donations,
booking one, refunding one), setting up a fund, and the public disclosure (公示), which
needs no login and names a donor only with their consent."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core import checkpoints
from wenming.core.access import has_perm
from wenming.core.checkpoints import public_key_hex
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.roles import Perm
from wenming.fund import permissions, selectors, services
from wenming.fund.forms import DonationForm, FundForm, ReasonForm, to_fen
from wenming.fund.models import Donation, Fund, FundEntry


@login_required
@require_GET
def fund_list(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.FUND_VIEW):
        raise Forbidden(_("您没有查看文明实践基金的权限。"))
    funds = list(selectors.fund_list(actor=request.user)[:50])
    totals = selectors.totals_of(funds)
    return render(
        request,
        "fund/list.html",
        {
            "rows": [(f, totals[f.pk]) for f in funds],
            "can_create": has_perm(request.user, Perm.FUND_MANAGE),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.FUND_MANAGE):
        raise Forbidden(_("只有基金管理员可以设立基金。"))
    form = FundForm(request.POST or None, units=selectors.manageable_units(actor=request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fund = services.fund_create(
                actor=request.user, unit_id=data["unit"], name=data["name"], purpose=data["purpose"]
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("基金已设立。"))
            return redirect("fund:detail", fund_id=fund.pk)
    return render(request, "fund/create.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request: HttpRequest, fund: Fund, form: DonationForm | None) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    page = paginate(request, selectors.donation_list(actor=request.user, fund=fund, search=q))
    return render(
        request,
        "fund/detail.html",
        {
            "fund": fund,
            "totals": selectors.fund_totals(fund),
            "projects": dict(selectors.project_choices(fund)),
            "page": page,
            "q": q,
            "qs": querystring_without_page(request),
            "form": form,
            "can_manage": permissions.can_manage(request.user, fund),
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_detail(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = selectors.fund_get(actor=request.user, fund_id=fund_id)
    can_manage = permissions.can_manage(request.user, fund)
    if request.method == "POST" and not can_manage:
        raise Forbidden(_("只有基金管理员可以登记捐赠。"))
    form = (
        DonationForm(
            request.POST or None,
            projects=selectors.project_choices(fund),
            initial={"received_on": timezone.localdate(), "donor_kind": "individual"},
        )
        if can_manage
        else None
    )
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            donation = services.donation_record(
                actor=request.user,
                fund=fund,
                data=services.DonationInput(
                    amount=to_fen(data["amount"]),
                    donor_kind=data["donor_kind"],
                    channel=data["channel"],
                    donor_name=data["donor_name"],
                    publish_name=data["publish_name"],
                    project_id=data["project"],
                    received_on=data["received_on"],
                    note=data["note"],
                ),
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(
                request, _("已登记捐赠，收据编号 %(n)s。") % {"n": donation.receipt_number}
            )
            return redirect("fund:detail", fund_id=fund.pk)
    return _detail(request, fund, form)


@login_required
@require_POST
def donation_refund(request: HttpRequest, donation_id: int) -> HttpResponse:
    donation = Donation.objects.select_related("fund", "entry").filter(pk=donation_id).first()
    if donation is None:
        raise NotFound(_("找不到该笔捐赠。"))
    selectors.fund_get(actor=request.user, fund_id=donation.fund_id)  # outsiders: 404
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.donation_refund(actor=request.user, donation=donation, reason=reason)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已退款，账本中记入一笔冲正。"))
    return redirect("fund:detail", fund_id=donation.fund_id)


# ---------------------------------------------------------------- public disclosure


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    funds = list(selectors.public_funds()[:50])
    totals = selectors.totals_of(funds)
    return render(request, "fund/public_list.html", {"rows": [(f, totals[f.pk]) for f in funds]})


@require_GET
def public_fund(request: HttpRequest, fund_id: int) -> HttpResponse:
    fund = selectors.public_fund_get(fund_id=fund_id)
    months = selectors.monthly(fund)
    return render(
        request,
        "fund/public.html",
        {
            "fund": fund,
            "totals": selectors.fund_totals(fund),
            "page": paginate(request, selectors.public_entries(fund)),
            "qs": querystring_without_page(request),
            "head": selectors.chain_head(fund),
            "checkpoint": selectors.latest_checkpoint(fund),
            "public_key": public_key_hex(),
            "chart": {
                "labels": [m.month for m in months],
                "series": [
                    {"name": _("收入（元）"), "data": [m.money_in / 100 for m in months]},
                    {"name": _("支出（元）"), "data": [m.money_out / 100 for m in months]},
                ],
            },
            "months": months,
        },
    )


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


@require_GET
def public_entries_csv(request: HttpRequest, fund_id: int) -> StreamingHttpResponse:
    """Every entry with every hashed field and both hashes, then the signed checkpoints:
    what `scripts/verify_fund_ledger.py` checks, with no help from the platform. Values
    are written exactly as hashed (open it with the script or a text editor)."""
    fund = selectors.public_fund_get(fund_id=fund_id)
    hashed = list(FundEntry.HASHED_FIELDS)
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow([*hashed, "prev_hash", "entry_hash", "donor"])
        for entry in selectors.public_entries(fund).order_by("seq").iterator(chunk_size=2000):
            content = entry.content()
            yield writer.writerow(
                [
                    *("" if content[name] is None else content[name] for name in hashed),
                    entry.prev_hash,
                    entry.entry_hash,
                    entry.donation.public_donor if hasattr(entry, "donation") else "",
                ]
            )
        for cp in selectors.checkpoints_of(fund):
            yield writer.writerow(
                ["# checkpoint", cp.table, cp.chain, cp.seq, cp.head_hash,
                 checkpoints.signed_at_text(cp), cp.key_id, cp.signature]
            )  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename=fund-{fund.pk}-ledger.csv"
    return response
