from django.urls import path

from wenming.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("manage/", views.activity_manage, name="manage"),
    path("new/", views.activity_create, name="create"),
    path("approval/", views.approval_settings, name="approval"),
    path("calendar/unit/<int:unit_id>.ics", views.unit_calendar, name="unit_calendar"),
    path("calendar/me/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/me/<str:token>.ics", views.my_calendar, name="my_calendar"),
    path("<int:activity_id>/", views.activity_detail, name="detail"),
    path("<int:activity_id>/edit/", views.activity_edit, name="edit"),
    path("<int:activity_id>/roster/", views.roster, name="roster"),
    path("<int:activity_id>/signup/", views.signup, name="signup"),
    path("<int:activity_id>/signup/cancel/", views.signup_cancel, name="signup_cancel"),
    path("<int:activity_id>/photos/", views.photo_upload, name="photo_upload"),
    path("<int:activity_id>/photos/<int:photo_id>.jpg", views.photo_file, name="photo"),
    path(
        "<int:activity_id>/photos/<int:photo_id>-thumb.jpg",
        views.photo_file,
        {"size": "thumb"},
        name="photo_thumb",
    ),
    path(
        "<int:activity_id>/photos/<int:photo_id>/delete/", views.photo_delete, name="photo_delete"
    ),
    path("<int:activity_id>/<slug:action>/", views.activity_transition, name="transition"),
]
