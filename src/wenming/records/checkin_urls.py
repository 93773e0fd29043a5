from django.urls import path

from wenming.records import views

app_name = "checkin"
urlpatterns = [
    path("<int:activity_id>/", views.scan, name="scan"),
    path("<int:activity_id>/screen/", views.screen, name="screen"),
    path("<int:activity_id>/screen/qr/", views.screen_qr, name="screen_qr"),
    path("<int:activity_id>/manual/", views.manual, name="manual"),
]
