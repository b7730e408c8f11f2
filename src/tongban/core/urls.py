from django.urls import path

from . import health, views

app_name = "core"

urlpatterns = [
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("audit/", views.audit_journal, name="audit"),
    path("audit/verify", views.audit_verify, name="audit_verify"),
    path("calendar/", views.working_calendar, name="calendar"),
    path("calendar/confirm-year", views.confirm_year, name="calendar_confirm_year"),
]
