from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("care-mode", views.care_mode, name="care_mode"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links; send them to the icon.
    path("favicon.ico", views.favicon, name="favicon"),
]
