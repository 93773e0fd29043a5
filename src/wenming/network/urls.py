from django.urls import path

from wenming.network import views

app_name = "network"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("units/", views.unit_list, name="units"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("units/<int:unit_id>/children/", views.unit_children, name="unit_children"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<int:unit_id>/staff/add/", views.grant_create, name="grant_create"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
]
