from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("care-mode", views.care_mode, name="care_mode"),
    path("healthz", views.healthz, name="healthz"),
]
