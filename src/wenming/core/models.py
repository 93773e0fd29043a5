from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Human names of audit verbs; a domain adds its own with `VERB_LABELS.update(...)`.
VERB_LABELS: dict[str, Any] = {
    "user.login": pgettext_lazy("audit verb", "登录"),
    "user.create": pgettext_lazy("audit verb", "创建用户"),
    "user.password_change": pgettext_lazy("audit verb", "修改密码"),
    "unit.create": pgettext_lazy("audit verb", "新建单位"),
    "unit.update": pgettext_lazy("audit verb", "修改单位"),
    "grant.create": pgettext_lazy("audit verb", "授予角色"),
    "grant.revoke": pgettext_lazy("audit verb", "撤销角色"),
    "regions.import": pgettext_lazy("audit verb", "导入区划"),
    "demo.load": pgettext_lazy("audit verb", "加载演示数据"),
    "maintenance.purge": pgettext_lazy("audit verb", "清理过期会话"),
    "data_key.rotate": pgettext_lazy("audit verb", "轮换数据密钥"),
}


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    """One write, recorded by the service that made it. Append-only: the app never
    updates or deletes a row (a database trigger refuses updates too)."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # DO_NOTHING: SET_NULL would be an UPDATE, which the append-only trigger refuses,
        # making users with any history undeletable. actor_label keeps who it was.
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("操作人"), max_length=200)
    verb = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64)
    target_label = models.CharField(_("对象"), max_length=300, blank=True)
    region_code = models.CharField(_("区划代码"), max_length=12)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region_code", "-created_at"], name="audit_region_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.target_label}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit events are append-only")

    @property
    def verb_label(self) -> str:
        return str(VERB_LABELS.get(self.verb, self.verb))


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """A background job started by a user (an import, an export …): its progress for a
    progress bar and its result. Only the user who started it sees it."""

    kind = models.CharField(_("类型"), max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    region_code = models.CharField(_("区划代码"), max_length=12, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    error = models.CharField(_("错误信息"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "succeeded", "failed"]),
                name="job_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


class LedgerCheckpoint(models.Model):
    """A signed statement of a ledger chain's head: "chain C of table T had N entries
    ending in hash H at time S", signed with the platform's Ed25519 key and published.
    A later rewrite of the table, even by someone with database access who recomputes
    every hash, no longer matches the published checkpoints (`core.checkpoints`)."""

    table = models.CharField(max_length=64)
    chain = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering: ClassVar = ["table", "chain", "seq"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["table", "chain", "seq"], name="checkpoint_once"),
        ]

    def __str__(self) -> str:
        return f"{self.table}:{self.chain}#{self.seq}"
