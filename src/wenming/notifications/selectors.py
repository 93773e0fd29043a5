"""Reading one's own notifications: a user sees only their own."""

from __future__ import annotations

from django.db.models import QuerySet

from wenming.accounts.types import Actor
from wenming.notifications.models import Notification


def my_notifications(*, actor: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient_id=actor.pk)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor: Actor) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()
