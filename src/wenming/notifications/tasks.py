from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wenming.notifications.services import DeliveryResult, outbox_deliver, outbox_queued


@db_task()
def deliver_outbox() -> DeliveryResult:
    """Queued after each transaction that writes a text message."""
    return outbox_deliver()


@db_periodic_task(crontab(minute="*"))
def deliver_outbox_every_minute() -> DeliveryResult:
    """Every minute: retries that are due, and anything a lost queue message left behind."""
    return outbox_deliver()


@receiver(outbox_queued)
def _queue_delivery(**kwargs: Any) -> None:
    deliver_outbox()
