"""The civilization practice fund (新时代文明实践基金): funds, donations, and one
tamper-evident ledger per fund (`FundEntry`, a `core.ledger.LedgerEntry`).

Money is integer fen. A fund's balance is the sum of its ledger, never a stored number;
money a donor restricted to a project is told apart by the entry's project."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.activities.models import Project
from wenming.core.ledger import LedgerEntry
from wenming.network.models import Region, Unit

# The most one donation may be: 10 billion yuan (1e12 fen), far above any real gift and
# far below what a 64-bit column holds.
MAX_AMOUNT_FEN = 1_000_000_000_000


class Fund(models.Model):
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="funds", verbose_name=_("管理单位")
    )
    # Copied from unit.region so that scoping is one prefix filter.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("基金名称"), max_length=100)
    purpose = models.TextField(_("用途"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    created_at = models.DateTimeField(_("设立时间"), auto_now_add=True)
    # How many receipt numbers the fund has given: the next one is this plus one, taken
    # by a conditional UPDATE under the chain's lock (no count of the donations).
    receipts_issued = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering: ClassVar = ["region_id", "name", "id"]
        verbose_name = _("文明实践基金")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["unit", "name"], name="fund_name_per_unit"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def chain(self) -> str:
        return f"fund:{self.pk}"


class EntryKind(models.TextChoices):
    DONATION = "donation", _("捐赠")
    GRANT = "grant", _("项目资助")
    DISBURSEMENT = "disbursement", _("拨付")
    RETURN = "return", _("结余退回")


class FundEntry(LedgerEntry):
    """One movement of a fund's money (fen; negative goes out). Its fund, the project
    the money is restricted to or spent on, and its reference (a receipt number) are
    covered by the hash."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(max_length=40, blank=True)

    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (
        *LedgerEntry.HASHED_FIELDS, "fund_id", "project_id", "reference",
    )  # fmt: skip

    class Meta(LedgerEntry.Meta):
        verbose_name = _("基金账目")

    @property
    def kind_label(self) -> str:
        return str(EntryKind(self.kind).label) if self.kind in EntryKind.values else self.kind


class DonorKind(models.TextChoices):
    INDIVIDUAL = "individual", _("个人")
    ENTERPRISE = "enterprise", _("企业")
    ANONYMOUS = "anonymous", _("匿名")


class DonationChannel(models.TextChoices):
    BANK = "bank", _("银行转账")
    CASH = "cash", _("现金")
    GOODS = "goods", _("物资（折价）")
    ONLINE = "online", _("网上捐赠")


class Donation(models.Model):
    """A gift to a fund, booked as one ledger entry. A refund is the entry's reversal."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="donations")
    receipt_number = models.CharField(_("收据编号"), max_length=30, unique=True)
    donor_kind = models.CharField(_("捐赠人类型"), max_length=12, choices=DonorKind.choices)
    donor_name = models.CharField(_("捐赠人"), max_length=100, blank=True)
    publish_name = models.BooleanField(_("同意公示姓名"), default=False)
    amount = models.BigIntegerField(_("金额（分）"))
    channel = models.CharField(_("方式"), max_length=10, choices=DonationChannel.choices)
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("定向项目"),
    )
    received_on = models.DateField(_("收到日期"), default=timezone.localdate)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.OneToOneField(FundEntry, on_delete=models.PROTECT, related_name="donation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("捐赠")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(amount__lte=MAX_AMOUNT_FEN),
                name="donation_amount_in_range",
            ),
            models.CheckConstraint(
                condition=Q(donor_kind="anonymous") | ~Q(donor_name=""),
                name="donation_named_unless_anonymous",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def public_donor(self) -> str:
        """The donor as the public disclosure shows them: named only with consent."""
        if self.donor_kind != DonorKind.ANONYMOUS and self.publish_name and self.donor_name:
            return self.donor_name
        return str(_("爱心人士")) if self.donor_kind != DonorKind.ENTERPRISE else str(_("爱心企业"))
