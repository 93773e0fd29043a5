from django.contrib import admin

from wenming.core.admin import ScopedReadOnlyAdmin, site
from wenming.network.models import Region, RoleGrant, Unit


@admin.register(Region, site=site)
class RegionAdmin(ScopedReadOnlyAdmin):
    scope_field = "code"
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]


@admin.register(Unit, site=site)
class UnitAdmin(ScopedReadOnlyAdmin):
    list_display = ["name", "kind", "region", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region__name", "region__code"]
    list_select_related = ["region", "parent"]


@admin.register(RoleGrant, site=site)
class RoleGrantAdmin(ScopedReadOnlyAdmin):
    list_display = ["user", "role", "region", "unit", "created_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["user__name", "region__name"]
    list_select_related = ["user", "region", "unit"]
