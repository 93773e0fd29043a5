"""The notifications API at /api/notifications: one's own messages, and marking them read."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from wenming.core.api import ErrorOut, Paging
from wenming.notifications import selectors, services
from wenming.notifications.models import Notification

router = Router(tags=["notifications"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class NotificationOut(Schema):
    id: int
    verb: str
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class ReadAllOut(Schema):
    marked: int


@router.get("/", response=list[NotificationOut])
@paginate(Paging)
def list_notifications(request: HttpRequest, unread: bool = False) -> object:
    return selectors.my_notifications(actor=request.user, unread_only=unread)


@router.post("/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def read_notification(request: HttpRequest, notification_id: int) -> Notification:
    return services.notification_mark_read(actor=request.user, notification_id=notification_id)


@router.post("/read-all", response={200: ReadAllOut, **ERRORS})
def read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services.notifications_mark_all_read(actor=request.user)}
