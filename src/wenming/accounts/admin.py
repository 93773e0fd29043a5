from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from wenming.accounts.models import User
from wenming.core.access import scope_q
from wenming.core.admin import ScopedReadOnlyAdmin, site
from wenming.core.roles import Perm


@admin.register(User, site=site)
class UserAdmin(ScopedReadOnlyAdmin):
    scope_field = None
    list_display = ["name", "phone_masked", "is_active", "date_joined", "last_login"]
    search_fields = ["name"]
    exclude = ["password"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # A user is in scope when one of their grants is.
        qs = super().get_queryset(request)
        return qs.filter(scope_q(request.user, Perm.ADMIN_SITE, "grants__region_id")).distinct()
