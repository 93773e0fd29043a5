from django.urls import path

from wenming.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("", views.volunteer_list, name="list"),
    path("register/", views.register, name="register"),
    path("register/done/", views.registered, name="registered"),
    path("new/", views.volunteer_create, name="create"),
    path("regions/", views.region_villages, name="region_villages"),
    path("me/", views.me, name="me"),
    path("<int:volunteer_id>/", views.volunteer_detail, name="detail"),
    path("<int:volunteer_id>/review/", views.volunteer_review, name="review"),
    path("<int:volunteer_id>/reveal/", views.volunteer_reveal, name="reveal"),
]
