"""One-time codes sent by text message, proving that a phone number is the person's own
before anything is created for it (self-registration).

A code is six random digits, kept only as a keyed hash in the cache (Redis in
production) for CODE_TTL seconds, and dies after MAX_TRIES wrong guesses. Sending is
limited per phone (one a minute, PHONE_CODE_DAILY a day) and per address
(PHONE_CODE_IP_HOURLY an hour), so neither one number nor one address can be used to
probe the register. Whether the number already has an account is never told here."""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.accounts.phones import normalize_phone
from wenming.core import crypto, ratelimit
from wenming.core.errors import RuleViolation
from wenming.notifications.services import notify_phone

CODE_TTL = 600  # seconds
MAX_TRIES = 5
REGISTER = "register"


def _key(purpose: str, phone: str) -> str:
    return f"phone-code:{purpose}:{crypto.digest(phone)}"


def _hash(phone: str, code: str) -> str:
    return crypto.digest(f"{phone}:{code}")


def phone_code_send(*, phone: str, purpose: str, ip: str | None) -> str:
    """Text a new code to `phone` for `purpose` (replacing any earlier one) and return
    it, for the demo's sandbox notice and for tests; a page never shows it otherwise."""
    phone = normalize_phone(phone)
    digest = crypto.digest(phone)
    if not ratelimit.hit(f"phone-code-ip:{ip}", settings.PHONE_CODE_IP_HOURLY, 3600):
        raise RuleViolation(
            _("此网络获取验证码过于频繁，请一小时后再试。"), code="rate_limited", field="phone"
        )
    if not ratelimit.hit(f"phone-code-min:{digest}", 1, 60):
        raise RuleViolation(
            _("验证码已发送，请 1 分钟后再重新获取。"), code="rate_limited", field="phone"
        )
    if not ratelimit.hit(f"phone-code-day:{digest}", settings.PHONE_CODE_DAILY, 86400):
        raise RuleViolation(
            _("该号码今天获取验证码的次数已达上限，请明天再试。"),
            code="rate_limited",
            field="phone",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    # The expiry is kept in the entry too: the cache's own expiry only cleans up.
    expires = timezone.now().timestamp() + CODE_TTL
    entry = {"hash": _hash(phone, code), "tries": 0, "expires": expires}
    cache.set(_key(purpose, phone), entry, CODE_TTL)
    notify_phone(
        phone=phone,
        text=_("【新时代文明实践】您的验证码是 %(code)s，%(minutes)d 分钟内有效。请勿告诉他人。")
        % {"code": code, "minutes": CODE_TTL // 60},
        verb="phone.code",
    )
    return code


def phone_code_check(*, phone: str, purpose: str, code: str) -> None:
    """Refuse (RuleViolation on `code`) unless `code` is the live code sent to `phone`;
    a wrong guess counts, and the fifth kills the code."""
    phone = normalize_phone(phone)
    key = _key(purpose, phone)
    entry = cache.get(key)
    code = (code or "").strip()
    if not code:
        raise RuleViolation(_("请填写短信验证码。"), field="code")
    if entry is None or timezone.now().timestamp() > entry["expires"]:
        raise RuleViolation(_("验证码已失效，请重新获取。"), field="code")
    if not hmac.compare_digest(entry["hash"], _hash(phone, code)):
        entry["tries"] += 1
        if entry["tries"] >= MAX_TRIES:
            cache.delete(key)
            raise RuleViolation(_("验证码错误次数过多，请重新获取。"), field="code")
        cache.set(key, entry, max(1, int(entry["expires"] - timezone.now().timestamp())))
        raise RuleViolation(_("验证码不正确。"), field="code")


def phone_code_spend(*, phone: str, purpose: str) -> None:
    """The code has served: it cannot be used again."""
    cache.delete(_key(purpose, normalize_phone(phone)))
