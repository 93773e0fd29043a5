from django.urls import path

from wenming.households import excel_views, views

app_name = "households"
urlpatterns = [
    path("", views.household_list, name="list"),
    path("new/", views.household_create, name="create"),
    path("mine/", views.mine, name="mine"),
    path("coverage/", views.coverage, name="coverage"),
    path("contacts/", views.contact_list, name="contacts"),
    path("figures/", views.figures, name="figures"),
    path("settings/", views.policy_settings, name="settings"),
    path("events/", views.event_list, name="events"),
    path("events/<int:event_id>/", views.event_detail, name="event"),
    path("events/<int:event_id>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<int:event_id>/order/", views.event_to_order, name="event_order"),
    path("<int:household_id>/", views.household_detail, name="detail"),
    path("<int:household_id>/edit/", views.household_edit, name="edit"),
    path("<int:household_id>/card/", views.household_card, name="card"),
    path("<int:household_id>/card/reset/", views.card_reset, name="card_reset"),
    path("<int:household_id>/members/", views.member_add, name="member_add"),
    path("<int:household_id>/assign/", views.assign, name="assign"),
    path("<int:household_id>/event/", views.event_report, name="event_report"),
    path("<int:household_id>/visit/", views.visit_log, name="visit"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("members/<int:member_id>/reveal/", views.member_reveal, name="member_reveal"),
    path("assignments/<int:assignment_id>/end/", views.unassign, name="unassign"),
    path("report/<str:code>/", views.report, name="report"),
    path("excel/import/", excel_views.excel_import, name="excel_import"),
    path("excel/template/", excel_views.excel_template, name="excel_template"),
    path("excel/jobs/<int:job_id>/", excel_views.excel_job, name="excel_job"),
    path("excel/export/", excel_views.excel_export, name="excel_export"),
]
