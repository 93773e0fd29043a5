from django.urls import path

from wenming.fund import views

app_name = "fund"

urlpatterns = [
    path("", views.fund_list, name="list"),
    path("new/", views.fund_create, name="create"),
    path("<int:fund_id>/", views.fund_detail, name="detail"),
    path("donations/<int:donation_id>/refund/", views.donation_refund, name="refund"),
    path("public/", views.public_list, name="public_list"),
    path("public/<int:fund_id>/", views.public_fund, name="public"),
    path("public/<int:fund_id>/entries.csv", views.public_entries_csv, name="public_csv"),
]
