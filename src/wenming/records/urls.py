from django.urls import path

from wenming.records import views

app_name = "records"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("corrections/", views.corrections, name="corrections"),
    path(
        "corrections/<int:correction_id>/answer/",
        views.correction_answer,
        name="correction_answer",
    ),
    path("activity/<int:activity_id>/", views.activity_records, name="activity"),
    path("activity/<int:activity_id>/confirm/", views.confirm, name="confirm"),
    path("<int:record_id>/reject/", views.reject, name="reject"),
    path("<int:record_id>/correction/", views.correction_request, name="correction_request"),
]
