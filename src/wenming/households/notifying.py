"""Sending the register's notifications through `wenming.notifications` (in-app, and
SMS for overdue alerts), inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def send(
    *,
    recipients: Iterable[Any],
    verb: str,
    title: str,
    body: str = "",
    url: str = "",
    region_code: str = "",
    sms: bool = False,
) -> int:
    users = [u for u in recipients if u is not None]
    if not users:
        return 0
    try:
        from wenming.notifications.services import notify  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the notifications app is not installed yet: count only
        return len({u.pk for u in users})
    return int(
        notify(
            recipients=users,
            verb=verb,
            title=title,
            body=body,
            url=url,
            region_code=region_code,
            sms=sms,
        )
    )
