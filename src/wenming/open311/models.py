"""Keys of the Open311 clients (a 12345 hotline system, a city app) allowed to post
service requests. The key itself is shown once when it is made; only its SHA-256 is
kept, with its first characters to tell keys apart."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wenming.network.models import Region


class ApiKey(models.Model):
    name = models.CharField(_("接入方"), max_length=60)
    # Requests posted with this key must be for a village under this region.
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("可提交的区域")
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("密钥开头"), max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("停用原因"), max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = _("Open311 密钥")
        verbose_name_plural = _("Open311 密钥")

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"
