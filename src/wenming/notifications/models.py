"""In-app notifications and the SMS outbox.

A notification is written in the same transaction as the action that causes it, so an
action that lands always leaves its notification behind, and one that rolls back leaves
none. Text messages go through `OutboxMessage`: written in that same transaction, sent
later by a Huey task that retries with back-off, so a provider that is down loses nothing.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    region_code = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["recipient", "read_at"], name="notif_recipient_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class OutboxMessage(models.Model):
    """One text message to a phone number, kept until it is sent (or given up)."""

    ENCRYPTED_FIELDS: ClassVar[tuple[tuple[str, str | None], ...]] = (("phone_cipher", None),)

    channel = models.CharField(max_length=10, default="sms")
    phone_cipher = models.TextField(editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=20)
    text = models.CharField(_("短信内容"), max_length=500)
    verb = models.CharField(max_length=60)
    region_code = models.CharField(max_length=12, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="outbox_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.phone_masked}"
