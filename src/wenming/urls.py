from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from wenming.api import api
from wenming.core import views as core_views
from wenming.core.admin import site as admin_site

urlpatterns = [
    path("", core_views.home, name="home"),
    path("audit/", core_views.audit_log, name="audit"),
    path("prefs/elderly/", core_views.elderly_toggle, name="elderly_toggle"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("wenming.accounts.urls")),
    path("network/", include("wenming.network.urls")),
    path("volunteers/", include("wenming.volunteers.urls")),
    path("teams/", include("wenming.volunteers.teams.urls")),
    path("activities/", include("wenming.activities.urls")),
    path("records/", include("wenming.records.urls")),
    path("checkin/", include("wenming.records.checkin_urls")),
    path("certificates/", include("wenming.certificates.urls")),
    path("demands/", include("wenming.demands.urls")),
    path("verify/", include("wenming.certificates.verify_urls")),
    path("notifications/", include("wenming.notifications.urls")),
    path("open311/", include("wenming.open311.urls")),
    path("households/", include("wenming.households.urls")),
    path("fund/", include("wenming.fund.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/", api.urls),
    path("admin/", admin_site.urls),
]

handler400 = "wenming.core.errors_views.bad_request"
handler403 = "wenming.core.errors_views.permission_denied"
handler404 = "wenming.core.errors_views.page_not_found"
handler500 = "wenming.core.errors_views.server_error"
