from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from wenming.accounts.models import User
from wenming.accounts.phones import normalize_phone
from wenming.core import crypto

_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


class PhonePasswordBackend(ModelBackend):
    """Log in with a phone number (any common spelling) and a password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        phone: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        number = phone or username
        if not number or not password:
            return None
        try:
            user = User.objects.get_by_phone(number)
        except User.DoesNotExist:
            # Run the hasher anyway so that timing does not reveal unknown numbers.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User.objects.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """What django-axes records and locks on: the keyed hash of the normalized number,
    never the number itself."""
    raw = (credentials or {}).get("phone") or (credentials or {}).get("username") or ""
    if isinstance(raw, str) and _DIGEST_RE.fullmatch(raw):
        # After a successful login axes passes the user's USERNAME_FIELD, which is
        # already the digest: keep it, or AXES_RESET_ON_SUCCESS would miss the failures.
        return raw
    if not raw and request is not None:
        raw = request.POST.get("phone", "")
    try:
        normal = normalize_phone(raw)
    except Exception:
        normal = str(raw).strip()
    return crypto.digest(normal) if normal else ""
