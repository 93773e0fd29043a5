"""Where text messages go. No SMS provider is reachable from here, so the default backend
writes each message to the log; a deployment names its own backend in
`WENMING_SMS_BACKEND` (a dotted path to a class with `send(phone, text)`)."""

from __future__ import annotations

import logging
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from wenming.core.crypto import mask_phone

logger = logging.getLogger("wenming.sms")


class SmsError(Exception):
    """The provider refused or could not be reached; the outbox will try again."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsBackend:
    """Logs the masked number and the text instead of sending."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class MemorySmsBackend:
    """Keeps what was sent in `MemorySmsBackend.sent` (for tests), or fails on demand."""

    sent: ClassVar[list[tuple[str, str]]] = []
    fail_with: ClassVar[str] = ""

    def send(self, phone: str, text: str) -> None:
        if MemorySmsBackend.fail_with:
            raise SmsError(MemorySmsBackend.fail_with)
        MemorySmsBackend.sent.append((phone, text))


def backend() -> SmsBackend:
    cls = import_string(settings.WENMING_SMS_BACKEND)
    instance: SmsBackend = cls()
    return instance
