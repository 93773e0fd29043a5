from django.urls import path

from wenming.households import views

app_name = "households"
urlpatterns = [
    path("", views.household_list, name="list"),
    path("<int:household_id>/", views.household_detail, name="detail"),
    path("events/", views.event_list, name="events"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
    path("coverage/", views.coverage, name="coverage"),
]
