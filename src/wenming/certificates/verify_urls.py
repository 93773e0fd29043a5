"""The public verification pages at /verify/ (short: the address is in the QR code)."""

from django.urls import path

from wenming.certificates import views

app_name = "verify"
urlpatterns = [
    path("", views.verify_form, name="form"),
    path("<str:number>/", views.verify, name="certificate"),
]
