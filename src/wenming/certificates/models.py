"""Certificates of volunteer service (志愿服务证明) and the requests for them.

A volunteer asks a unit for a certificate over a period; the unit certifies only its own
confirmed records (谁记录谁证明). A certificate freezes what it certifies — the
volunteer's name, ID type and masked number, volunteer number, the unit, the period and
the minutes — and carries an HMAC signature over those fields, so that a changed number
or changed hours fails verification. The database refuses to change the signed fields
and to undo a revocation (migration 0002); certificates are revoked with a reason, never
deleted (every foreign key PROTECTs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Region, Unit
from wenming.volunteers.models import IdType, Volunteer


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("待出具")
    ISSUED = "issued", _("已出具")
    REJECTED = "rejected", _("未出具")


class CertificateRequest(models.Model):
    """A volunteer asks a unit for a certificate of their service there over a period."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="certificate_requests"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("出具单位")
    )
    # Copied from the unit so that scoping is one prefix filter.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField(_("服务起始日期"))
    period_end = models.DateField(_("服务截止日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.REQUESTED
    )
    reason = models.CharField(_("不予出具的原因"), max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("证明申请")
        verbose_name_plural = _("证明申请")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["requested", "issued", "rejected"]),
                name="certrequest_status_known",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="certrequest_period_order"
            ),
            models.CheckConstraint(
                condition=Q(status="requested") | Q(answered_at__isnull=False),
                name="certrequest_answered_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""),
                name="certrequest_rejected_with_reason",
            ),
            # One open request per volunteer and unit: a second click is not a second request.
            models.UniqueConstraint(
                fields=["volunteer", "unit"],
                condition=Q(status="requested"),
                name="certrequest_one_open_per_unit",
            ),
        ]
        indexes = [models.Index(fields=["region", "status"], name="certrequest_region_status")]

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.unit_id} {self.period_start}–{self.period_end}"


class Certificate(models.Model):
    """An issued certificate. The fields named in SIGNED_FIELDS are frozen at issue."""

    number = models.CharField(_("证明编号"), max_length=32, unique=True)
    request = models.OneToOneField(
        CertificateRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificate",
    )
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("出具单位")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    # What was certified, as it stood at issue.
    volunteer_number = models.CharField(_("志愿者编号"), max_length=20)
    volunteer_name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=10, choices=IdType.choices)
    id_masked = models.CharField(_("证件号码"), max_length=40)
    unit_name = models.CharField(_("出具单位"), max_length=100)
    period_start = models.DateField(_("服务起始日期"))
    period_end = models.DateField(_("服务截止日期"))
    minutes = models.PositiveIntegerField(_("服务时长（分钟）"))
    content = models.CharField(_("服务内容"), max_length=500)
    person_in_charge = models.CharField(_("负责人"), max_length=50)
    handler = models.CharField(_("经办人"), max_length=50)
    contact = models.CharField(_("联系电话"), max_length=30, blank=True)
    issued_at = models.DateTimeField(_("出具时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signature = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_reason = models.CharField(_("撤销原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("志愿服务证明")
        verbose_name_plural = _("志愿服务证明")
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="certificate_minutes_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="certificate_period_order"
            ),
            models.CheckConstraint(
                condition=(
                    Q(revoked_at__isnull=True) & Q(revoked_by__isnull=True) & Q(revoked_reason="")
                )
                | (
                    Q(revoked_at__isnull=False)
                    & Q(revoked_by__isnull=False)
                    & ~Q(revoked_reason="")
                ),
                name="certificate_revoked_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["region", "issued_at"], name="certificate_region_issued"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def hours(self) -> str:
        return hours_label(self.minutes)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


def hours_label(minutes: int) -> str:
    """Hours with up to two decimals, without trailing zeros: 90 → "1.5", 120 → "2"."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


class CertificateCounter(models.Model):
    """The last certificate sequence number per county and year (row-locked to number)."""

    county = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county", "year"], name="certcounter_county_year")
        ]

    def __str__(self) -> str:
        return f"{self.county}-{self.year}:{self.last}"
