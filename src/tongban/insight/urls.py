from django.urls import path

from . import views

app_name = "insight"

urlpatterns = [
    path("insight/logs/", views.log_list, name="log_list"),
    path("insight/logs/cases", views.import_cases, name="import_cases"),
    path("insight/logs/<uuid:public_id>/", views.log_detail, name="log_detail"),
    path("insight/logs/<uuid:public_id>/export.<str:kind>", views.log_export, name="log_export"),
]
