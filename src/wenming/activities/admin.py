from django.contrib import admin

from wenming.activities.models import Activity, Project, SignUp, Subcategory
from wenming.core.admin import ScopedReadOnlyAdmin, site


@admin.register(Subcategory, site=site)
class SubcategoryAdmin(ScopedReadOnlyAdmin):
    scope_field = None  # shared by the whole deployment
    list_display = ["name", "work_item", "sort", "is_active"]
    list_filter = ["work_item", "is_active"]


@admin.register(Project, site=site)
class ProjectAdmin(ScopedReadOnlyAdmin):
    list_display = ["name", "unit", "work_item", "is_brand", "is_active"]
    list_filter = ["work_item", "is_brand"]
    search_fields = ["name"]
    list_select_related = ["unit"]


@admin.register(Activity, site=site)
class ActivityAdmin(ScopedReadOnlyAdmin):
    list_display = ["title", "work_item", "unit", "starts_at", "state", "signed_up_count", "quota"]
    list_filter = ["state", "work_item"]
    search_fields = ["title", "venue"]
    list_select_related = ["unit"]


@admin.register(SignUp, site=site)
class SignUpAdmin(ScopedReadOnlyAdmin):
    scope_field = "activity__region_id"
    list_display = ["activity", "volunteer", "state", "position", "created_at"]
    list_filter = ["state"]
    list_select_related = ["activity", "volunteer"]
