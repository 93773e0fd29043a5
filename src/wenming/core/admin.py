"""The Django admin: for system admins only, read-only, and scoped like everything else.

Writes go through services (so they are checked and audited); the admin is for
inspection. Each ModelAdmin says which field holds the region code to scope on."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wenming.core.access import has_perm, scoped
from wenming.core.models import AuditEvent
from wenming.core.roles import Perm


class WenmingAdminSite(admin.AdminSite):
    site_header = _("文明实践平台 · 系统管理")
    site_title = _("系统管理")
    index_title = _("数据查看（只读）")

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and has_perm(request.user, Perm.ADMIN_SITE))


site = WenmingAdminSite(name="admin")


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    scope_field: str | None = "region_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if self.scope_field is None:
            return qs
        return scoped(qs, request.user, Perm.ADMIN_SITE, self.scope_field)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_perm(request.user, Perm.ADMIN_SITE)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_perm(request.user, Perm.ADMIN_SITE)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent, site=site)
class AuditEventAdmin(ScopedReadOnlyAdmin):
    scope_field = "region_code"
    list_display = ["created_at", "actor_label", "verb", "target_label", "region_code", "ip"]
    list_filter = ["verb", "target_type"]
    search_fields = ["actor_label", "target_label", "region_code"]
    date_hierarchy = "created_at"
