from django.urls import path

from . import views

app_name = "licences"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/scan/", views.scan, name="scan"),
    path("verify/qr", views.scan_link, name="scan_link"),
    path("verify/<str:code>", views.verify, name="verify_code"),
    path("me/licences/", views.wallet, name="wallet"),
    path("me/licences/<str:code>.<str:kind>", views.download, name="download"),
    path("me/licences/<str:code>/show", views.show, name="show"),
]
