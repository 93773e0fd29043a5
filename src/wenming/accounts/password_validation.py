"""Password rules with Chinese messages.

Django's own validators say the same, but in Django 5.2 the wording of the minimum
length message no longer matches its zh_Hans catalogue, so users saw English."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation as django_pv
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MinimumLengthValidator(django_pv.MinimumLengthValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                _("密码太短，至少需要 %(min_length)d 位。") % {"min_length": self.min_length},
                code="password_too_short",
            )

    def get_help_text(self) -> str:
        return _("至少 %(min_length)d 位。") % {"min_length": self.min_length}


class CommonPasswordValidator(django_pv.CommonPasswordValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if password.lower().strip() in self.passwords:
            raise ValidationError(_("这个密码太常见了，请换一个。"), code="password_too_common")

    def get_help_text(self) -> str:
        return _("不能是常见密码。")


class NumericPasswordValidator(django_pv.NumericPasswordValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if password.isdigit():
            raise ValidationError(_("密码不能全是数字。"), code="password_entirely_numeric")

    def get_help_text(self) -> str:
        return _("不能全是数字。")
