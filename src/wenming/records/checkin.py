"""The rotating check-in token shown as a QR code, and the geofence.

A token is `<slot>.<mac>`: the 30-second time slot and an HMAC over the activity id and
the slot under a key derived from SECRET_KEY. It is valid in its own slot and the one
after (so a code scanned just before it rotates still works: 30 to 60 seconds in all).
Replaying a valid token is harmless because check-in and check-out are idempotent.

Opening the scanned URL trades a valid token for a *pass* (`p<slot>.<mac>`, another
key) good for PASS_SLOTS slots (5 minutes), so that a volunteer who must log in first,
or who is slow to allow location access, is not refused by the 30-second rotation."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation

_SALT = "wenming.records.checkin"


def slot_of(now: dt.datetime) -> int:
    return int(now.timestamp()) // settings.CHECKIN_TOKEN_SECONDS


def _mac(activity_id: int, slot: int, *, pass_: bool = False) -> str:
    salt = _SALT + (".pass" if pass_ else "")
    return salted_hmac(salt, f"{activity_id}:{slot}", algorithm="sha256").hexdigest()[:32]


def token_for(activity_id: int, now: dt.datetime) -> str:
    slot = slot_of(now)
    return f"{slot}.{_mac(activity_id, slot)}"


PASS_SLOTS = 10


def pass_for(activity_id: int, now: dt.datetime) -> str:
    slot = slot_of(now)
    return f"p{slot}.{_mac(activity_id, slot, pass_=True)}"


def token_check(activity_id: int, token: str, now: dt.datetime) -> None:
    """Refuse a forged, malformed or expired token or pass (RuleViolation with a clear
    message)."""
    token = token or ""
    is_pass = token.startswith("p")
    slot_text, _dot, mac = token.removeprefix("p").partition(".")
    if not (slot_text.isascii() and slot_text.isdigit()) or len(slot_text) > 12 or not mac:
        raise RuleViolation(_("签到二维码无效，请扫描活动现场的二维码。"), code="token_invalid")
    slot = int(slot_text)
    if not constant_time_compare(mac, _mac(activity_id, slot, pass_=is_pass)):
        raise RuleViolation(_("签到二维码无效，请扫描活动现场的二维码。"), code="token_invalid")
    current = slot_of(now)
    valid = range(current - PASS_SLOTS, current + 1) if is_pass else (current, current - 1)
    if slot not in valid:
        raise RuleViolation(
            _("签到二维码已过期，请重新扫描现场屏幕上的二维码。"), code="token_expired"
        )


def token_seconds_left(now: dt.datetime) -> int:
    step = settings.CHECKIN_TOKEN_SECONDS
    return step - int(now.timestamp()) % step
