"""Writes to accounts: creating users, changing passwords, recording logins."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.accounts.phones import normalize_phone
from wenming.accounts.types import Actor
from wenming.core import crypto
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation


def _validate_password(password: str, user: User | None = None, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field=field) from exc


@transaction.atomic
def user_create(
    *, actor: Actor | None, phone: str, name: str, password: str, region_code: str = ""
) -> User:
    """Create a login. The phone number is unique (checked by its keyed hash, also
    under concurrency by the unique index)."""
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("请填写姓名。"), field="name")
    normal = normalize_phone(phone)
    if User.objects.filter(phone_digest__in=crypto.digests(normal)).exists():
        raise RuleViolation(_("该手机号码已注册。"), field="phone")
    user = User(name=name)
    user.set_phone(normal)
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise RuleViolation(_("该手机号码已注册。"), field="phone") from exc
    audit_record(
        actor=actor,
        verb="user.create",
        target=user,
        region_code=region_code,
        changes={"name": [None, user.name], "phone": [None, user.phone_masked]},
    )
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> None:
    """A user changes their own password; the old one must be right."""
    if not user.check_password(old_password):
        raise RuleViolation(_("原密码不正确。"), field="old_password")
    if old_password == new_password:
        raise RuleViolation(_("新密码不能与原密码相同。"), field="new_password")
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(actor=user, verb="user.password_change", target=user, region_code="")


def login_record(*, user: User) -> None:
    """Record a successful login in the audit log (failures are counted by axes)."""
    audit_record(actor=user, verb="user.login", target=user, region_code="")
