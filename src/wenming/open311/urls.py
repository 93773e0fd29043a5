from django.urls import path

from wenming.open311 import key_views, views

app_name = "open311"

urlpatterns = [
    path("v2/discovery.<str:fmt>", views.discovery, name="discovery"),
    path("v2/services.<str:fmt>", views.service_list, name="services"),
    path("v2/services/<str:code>.<str:fmt>", views.service_definition, name="service"),
    path("v2/requests.<str:fmt>", views.requests, name="requests"),
    path("v2/requests/<str:number>.<str:fmt>", views.request_detail, name="request"),
    path("keys/", key_views.key_list, name="keys"),
    path("keys/<int:key_id>/revoke/", key_views.key_revoke, name="key_revoke"),
]
