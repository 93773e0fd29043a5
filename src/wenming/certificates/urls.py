from django.urls import path

from wenming.certificates import views

app_name = "certificates"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("", views.staff_list, name="list"),
    path("issue/", views.issue_direct, name="issue_direct"),
    path("requests/<int:request_id>/issue/", views.issue, name="issue"),
    path("requests/<int:request_id>/reject/", views.reject, name="reject"),
    path("<int:certificate_id>/", views.detail, name="detail"),
    path("<int:certificate_id>/revoke/", views.revoke, name="revoke"),
    path("<int:certificate_id>/pdf/", views.download, name="pdf"),
]
