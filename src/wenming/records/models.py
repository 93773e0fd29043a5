"""Attendance (签到/签退) and the service-record ledger (志愿服务记录).

The database holds the rules that must never break: one attendance per volunteer per
activity; check-out not before check-in; a confirmed service record never changes (a
trigger refuses the UPDATE, see migration 0002); a record is reversed at most once
(unique `reverses`); a reversal is negative and gives a reason, an original is not
negative. The ledger does not depend on activities: `activity` is nullable so that the
resident-demand domain can record its services here too."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wenming.activities.models import Activity
from wenming.network.models import Region, Unit
from wenming.volunteers.models import Volunteer


class How(models.TextChoices):
    QR = "qr", _("扫码")
    MANUAL = "manual", _("手动")


class Attendance(models.Model):
    """A volunteer's presence at one activity: when they checked in and out, and how."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="attendances")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="attendances")
    checked_in_at = models.DateTimeField(_("签到时间"))
    checked_in_how = models.CharField(_("签到方式"), max_length=6, choices=How.choices)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    checked_out_how = models.CharField(_("签退方式"), max_length=6, choices=How.choices, blank=True)
    # Metres from the activity's coordinates when the check-in was geofenced.
    check_in_distance_m = models.PositiveIntegerField(_("签到距离（米）"), null=True, blank=True)
    manual_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("手动操作人"),
    )
    manual_reason = models.CharField(_("手动签到/签退原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["checked_in_at", "id"]
        verbose_name = _("签到记录")
        verbose_name_plural = _("签到记录")
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "volunteer"], name="attendance_one_per_volunteer"
            ),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_out_at__gte=F("checked_in_at")),
                name="attendance_out_not_before_in",
            ),
            models.CheckConstraint(
                condition=Q(checked_in_how__in=["qr", "manual"]), name="attendance_in_how_known"
            ),
            models.CheckConstraint(
                condition=(Q(checked_out_at__isnull=True) & Q(checked_out_how=""))
                | (Q(checked_out_at__isnull=False) & Q(checked_out_how__in=["qr", "manual"])),
                name="attendance_out_how_iff_out",
            ),
            models.CheckConstraint(
                condition=~(Q(checked_in_how="manual") | Q(checked_out_how="manual"))
                | (Q(manual_by__isnull=False) & ~Q(manual_reason="")),
                name="attendance_manual_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.volunteer_id}"


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("未通过")


class ServiceRecord(models.Model):
    """One entry of the service ledger (志愿服务记录). Append-only once confirmed: a
    correction is a reversing entry (negative minutes, with a reason) plus a new one."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="service_records"
    )
    activity = models.ForeignKey(
        Activity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_records",
        verbose_name=_("活动"),
    )
    # The resident's order the volunteer served (resident demand, 群众点单).
    order = models.ForeignKey(
        "demands.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_records",
        verbose_name=_("群众点单"),
    )
    # The attendance the record was computed from (one record per attendance).
    attendance = models.OneToOneField(
        Attendance,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_record",
    )
    # The organiser who records and certifies it (谁组织谁记录，谁记录谁证明).
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录单位")
    )
    # Copied from the organiser so that scoping is one prefix filter.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("区划")
    )
    date = models.DateField(_("服务日期"))
    place = models.CharField(_("服务地点"), max_length=200)
    content = models.CharField(_("服务内容"), max_length=300)
    served_people = models.PositiveIntegerField(_("服务对象人数"), default=0)
    minutes = models.IntegerField(_("服务时长（分钟）"))
    # What the daily cap took off this record's time (None: nothing): shown to whoever
    # confirms it and to the volunteer, so hours never vanish without a word.
    minutes_capped = models.PositiveIntegerField(_("每日上限扣减（分钟）"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("冲正的记录"),
    )
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    evaluation = models.CharField(_("服务评价"), max_length=300, blank=True)
    person_in_charge = models.CharField(_("负责人"), max_length=50, blank=True)
    recorder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("志愿服务记录")
        verbose_name_plural = _("志愿服务记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "confirmed", "rejected"]),
                name="record_status_known",
            ),
            models.CheckConstraint(
                condition=(Q(reverses__isnull=True) & Q(minutes__gte=0))
                | (Q(reverses__isnull=False) & Q(minutes__lte=0) & ~Q(reason="")),
                name="record_reversal_negative_with_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status="confirmed") & Q(confirmed_at__isnull=False))
                | (~Q(status="confirmed") & Q(confirmed_at__isnull=True)),
                name="record_confirmed_at_iff_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(status="confirmed"),
                name="record_reversal_confirmed",
            ),
        ]
        indexes = [
            models.Index(fields=["volunteer", "status"], name="record_volunteer_status"),
            models.Index(fields=["activity", "status"], name="record_activity_status"),
            models.Index(fields=["region", "status"], name="record_region_status"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.content}（{self.minutes} 分钟）"

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def capped_hours(self) -> float:
        return round((self.minutes_capped or 0) / 60, 2)


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ACCEPTED = "accepted", _("已更正")
    REJECTED = "rejected", _("已驳回")


class CorrectionRequest(models.Model):
    """A volunteer asks the organiser to correct a confirmed record; the organiser must
    answer: accept (a reversal and a corrected record) or reject with a reason."""

    record = models.ForeignKey(ServiceRecord, on_delete=models.PROTECT, related_name="corrections")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("申请理由"), max_length=300)
    proposed_minutes = models.PositiveIntegerField(_("申请更正为（分钟）"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN
    )
    answer = models.CharField(_("答复"), max_length=300, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replacement = models.ForeignKey(
        ServiceRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("记录更正申请")
        verbose_name_plural = _("记录更正申请")
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="open"), name="correction_one_open"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "accepted", "rejected"]),
                name="correction_status_known",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(answered_at__isnull=False) & ~Q(answer="")),
                name="correction_answered_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}:{self.status}"
