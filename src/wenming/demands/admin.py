from django.contrib import admin

from wenming.core.admin import ScopedReadOnlyAdmin, site
from wenming.demands.models import MenuItem, Order, OrderEvent


@admin.register(MenuItem, site=site)
class MenuItemAdmin(ScopedReadOnlyAdmin):
    list_display = ["title", "code", "unit", "work_item", "delivery_mode", "is_active"]
    list_filter = ["work_item", "delivery_mode", "is_active"]
    search_fields = ["title", "code"]
    list_select_related = ["unit"]


@admin.register(Order, site=site)
class OrderAdmin(ScopedReadOnlyAdmin):
    list_display = ["number", "title", "unit", "state", "requested_at", "rating"]
    list_filter = ["state", "kind", "channel"]
    search_fields = ["number", "title"]
    list_select_related = ["unit"]
    exclude = [
        "requester_name_cipher",
        "requester_phone_cipher",
        "requester_phone_digest",
        "token_digest",
    ]


@admin.register(OrderEvent, site=site)
class OrderEventAdmin(ScopedReadOnlyAdmin):
    scope_field = "order__region_id"
    list_display = ["order", "action", "actor_label", "at"]
    list_filter = ["action"]
    list_select_related = ["order"]
