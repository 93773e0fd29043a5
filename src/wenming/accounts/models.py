from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wenming.accounts.phones import normalize_phone
from wenming.core import crypto


class UserManager(BaseUserManager["User"]):
    def get_by_phone(self, phone: str) -> User:
        """Raise User.DoesNotExist for an unknown or malformed number."""
        try:
            normal = normalize_phone(phone)
        except Exception as exc:
            raise self.model.DoesNotExist from exc
        return self.get(phone_digest__in=crypto.digests(normal))

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get_by_phone(username or "")

    def create_user(self, phone: str, name: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(name=name, **extra)
        user.set_phone(phone)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person who logs in with a phone number. The number is stored encrypted with a
    keyed hash for lookup; what they may do comes from their role grants."""

    # (ciphertext field, keyed-hash field or None): re-encrypted by `wenming rotate_data_key`.
    ENCRYPTED_FIELDS: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("phone_cipher", "phone_digest"),
    )

    name = models.CharField(_("姓名"), max_length=50)
    phone_digest = models.CharField(max_length=64, unique=True, editable=False)
    phone_cipher = models.TextField(editable=False)
    phone_masked = models.CharField(_("手机号码"), max_length=20, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone_digest"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return f"{self.name}（{self.phone_masked}）"

    def set_phone(self, phone: str) -> None:
        normal = normalize_phone(phone)
        self.phone_digest = crypto.digest(normal)
        self.phone_cipher = crypto.encrypt(normal)
        self.phone_masked = crypto.mask_phone(normal)

    @property
    def phone(self) -> str:
        """The plaintext number: only for the owner and audited reveals."""
        return crypto.decrypt(self.phone_cipher)

    # The Django admin asks these; access is decided by role grants (see admin.py).
    @property
    def is_staff(self) -> bool:
        from wenming.core.access import has_perm
        from wenming.core.roles import Perm

        return has_perm(self, Perm.ADMIN_SITE)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return self.is_active and self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_staff
