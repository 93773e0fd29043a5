"""Writing notifications, marking them read, and delivering the SMS outbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.core.errors import NotFound
from wenming.notifications import sms
from wenming.notifications.models import Notification, OutboxMessage, OutboxStatus

AUDIT_VERBS = {
    "notification.read": pgettext_lazy("audit verb", "已读消息"),
    "notification.read_all": pgettext_lazy("audit verb", "全部标为已读"),
}

# Tries before a text message is given up as failed, and the back-off between them.
MAX_ATTEMPTS = 6
SMS_MAX_CHARS = 500


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=2 ** min(attempts, 8))


# Sent after a transaction that queued text messages commits: `notifications.tasks`
# (which Huey imports in every process) answers by queueing the delivery. Services never
# import tasks; tasks call services.
outbox_queued = Signal()


def _deliver_soon() -> None:
    """After the transaction commits, ask the queue to deliver what is pending."""
    transaction.on_commit(lambda: outbox_queued.send(sender=OutboxMessage))


def _queue_sms(*, phone: str, text: str, verb: str, region_code: str) -> OutboxMessage:
    return OutboxMessage(
        phone_cipher=crypto.encrypt(phone),
        phone_masked=crypto.mask_phone(phone),
        text=text[:SMS_MAX_CHARS],
        verb=verb,
        region_code=region_code,
        next_attempt_at=timezone.now(),
    )


@transaction.atomic
def notify(
    *,
    recipients: Iterable[Any],
    verb: str,
    title: str,
    body: str = "",
    url: str = "",
    region_code: str = "",
    sms: bool = False,
) -> int:
    """Leave an in-app notification for each recipient (each user once), and with
    `sms=True` also queue a text message to each recipient's phone. Runs inside the
    caller's transaction: the notification lands if and only if the action does.
    Returns the number of notifications written."""
    users = {u.pk: u for u in recipients if u is not None and u.pk is not None}
    if not users:
        return 0
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                verb=verb,
                title=str(title)[:200],
                body=str(body),
                url=url[:500],
                region_code=region_code,
            )
            for pk in users
        ]
    )
    if sms:
        text = f"{title}{('：' + str(body)) if body else ''}"
        messages = [
            _queue_sms(
                phone=crypto.decrypt(u.phone_cipher), text=text, verb=verb, region_code=region_code
            )
            for u in users.values()
            if getattr(u, "phone_cipher", "")
        ]
        OutboxMessage.objects.bulk_create(messages)
        if messages:
            _deliver_soon()
    return len(users)


@transaction.atomic
def notify_phone(*, phone: str, text: str, verb: str, region_code: str = "") -> None:
    """Queue one text message to a bare phone number (a resident without an account),
    inside the caller's transaction."""
    _queue_sms(phone=phone, text=text, verb=verb, region_code=region_code).save()
    _deliver_soon()


@transaction.atomic
def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's own notifications read (someone else's is not found)."""
    try:
        notification = Notification.objects.select_for_update().get(
            pk=notification_id, recipient_id=actor.pk
        )
    except Notification.DoesNotExist:
        raise NotFound(_("找不到这条消息。")) from None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        audit_record(
            actor=actor,
            verb="notification.read",
            target=notification,
            region_code=notification.region_code,
        )
    return notification


@transaction.atomic
def notifications_mark_all_read(*, actor: Actor) -> int:
    """Mark all of the actor's unread notifications read; returns how many."""
    count = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        audit_record(
            actor=actor,
            verb="notification.read_all",
            target=None,
            region_code="",
            changes={"count": [0, count]},
        )
    return count


@dataclasses.dataclass(frozen=True)
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def outbox_deliver(*, now: dt.datetime | None = None, limit: int = 200) -> DeliveryResult:
    """Send pending text messages that are due. A failure is retried with back-off and
    given up after MAX_ATTEMPTS; rows are locked with SKIP LOCKED (where the database
    has it) so two consumers never send the same message twice."""
    now = now or timezone.now()
    sent = retrying = failed = 0
    sender = sms.backend()
    with transaction.atomic():
        due = OutboxMessage.objects.filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for message in due[:limit]:
            message.attempts += 1
            try:
                sender.send(crypto.decrypt(message.phone_cipher), message.text)
            except Exception as exc:  # any provider error: keep the message and retry
                message.last_error = f"{type(exc).__name__}: {exc}"[:300]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    failed += 1
                else:
                    message.next_attempt_at = now + _backoff(message.attempts)
                    retrying += 1
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = now
                message.last_error = ""
                sent += 1
            message.save(
                update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"]
            )
    return DeliveryResult(sent=sent, retrying=retrying, failed=failed)
