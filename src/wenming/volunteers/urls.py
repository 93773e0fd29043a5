from django.urls import include, path

from wenming.volunteers import edit_views, settings_views, views
from wenming.volunteers.excel import urls as excel_urls

app_name = "volunteers"
urlpatterns = [
    path("", views.volunteer_list, name="list"),
    path("register/", views.register, name="register"),
    path("register/code/", views.register_code, name="register_code"),
    path("register/done/", views.registered, name="registered"),
    path("new/", views.volunteer_create, name="create"),
    path("regions/", views.region_villages, name="region_villages"),
    path("me/", views.me, name="me"),
    path("settings/", settings_views.volunteer_settings, name="settings"),
    path(
        "settings/unit/<int:unit_id>/",
        settings_views.registration_policy,
        name="registration_policy",
    ),
    path("settings/stars/", settings_views.star_policy, name="star_policy"),
    path("excel/", include(excel_urls.urlpatterns)),
    path("<int:volunteer_id>/", views.volunteer_detail, name="detail"),
    path("<int:volunteer_id>/review/", views.volunteer_review, name="review"),
    path("<int:volunteer_id>/reveal/", views.volunteer_reveal, name="reveal"),
    path("<int:volunteer_id>/edit/", edit_views.volunteer_edit, name="edit"),
    path("<int:volunteer_id>/active/", edit_views.volunteer_set_active, name="set_active"),
]
