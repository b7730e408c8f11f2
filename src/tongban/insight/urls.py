from django.urls import path

from . import views

app_name = "insight"

urlpatterns = [
    path("insight/", views.dashboard, name="dashboard"),
    path("insight/cockpit", views.cockpit_page, name="cockpit"),
    path("insight/targets", views.set_target, name="set_target"),
    path("insight/redesigns", views.redesigns, name="redesigns"),
    path("insight/reports", views.make_report, name="make_report"),
    path("insight/reports/<str:month>.<str:kind>", views.report_download, name="report_download"),
    path("insight/warning/<str:code>/<str:kpi>.pdf", views.warning_letter, name="warning_letter"),
    path("insight/logs/", views.log_list, name="log_list"),
    path("insight/logs/cases", views.import_cases, name="import_cases"),
    path("insight/logs/<uuid:public_id>/", views.log_detail, name="log_detail"),
    path("insight/logs/<uuid:public_id>/export.<str:kind>", views.log_export, name="log_export"),
    path("insight/logs/<uuid:public_id>/what-if", views.what_if, name="what_if"),
]
