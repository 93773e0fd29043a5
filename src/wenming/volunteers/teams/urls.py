from django.urls import path

from wenming.volunteers.teams import views as team_views

app_name = "teams"
urlpatterns = [
    path("", team_views.team_list, name="list"),
    path("new/", team_views.team_create, name="create"),
    path("<int:team_id>/", team_views.team_detail, name="detail"),
    path("<int:team_id>/edit/", team_views.team_edit, name="edit"),
    path("<int:team_id>/join/", team_views.team_join, name="join"),
    path("<int:team_id>/leave/", team_views.team_leave, name="leave"),
    path(
        "memberships/<int:membership_id>/approve/",
        team_views.membership_approve,
        name="approve",
    ),
    path("memberships/<int:membership_id>/reject/", team_views.membership_reject, name="reject"),
    path("memberships/<int:membership_id>/remove/", team_views.membership_remove, name="remove"),
    path("memberships/<int:membership_id>/leader/", team_views.leader_set, name="leader"),
]
