from django.urls import path

from wenming.volunteers.excel import views as excel_views

# Included by volunteers/urls.py under "excel/" (names live in the volunteers namespace).
urlpatterns = [
    path("import/", excel_views.excel_import, name="excel_import"),
    path("template/", excel_views.excel_template, name="excel_template"),
    path("jobs/<int:job_id>/", excel_views.excel_job, name="excel_job"),
    path("jobs/<int:job_id>/confirm/", excel_views.excel_confirm, name="excel_confirm"),
    path("jobs/<int:job_id>/apply/", excel_views.excel_apply, name="excel_apply"),
    path("export/", excel_views.excel_export, name="excel_export"),
]
