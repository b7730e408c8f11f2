from django.urls import path

from . import views

app_name = "programme"

urlpatterns = [
    path("programme/", views.programme_list, name="list"),
    path("programme/new", views.programme_create, name="create"),
    path("programme/<str:code>/", views.programme_detail, name="detail"),
    path("programme/<str:code>/import", views.programme_import, name="import"),
    path("programme/<str:code>/export.xlsx", views.programme_export, name="export"),
    path("programme/<str:code>/three-lists.xlsx", views.three_lists, name="three_lists"),
    path("programme/<str:code>/risk", views.schedule_risk, name="risk"),
    path("programme/<str:code>/tasks/<str:task>/progress", views.task_progress, name="progress"),
    path("programme/<str:code>/tasks/<str:task>/warning.pdf", views.warning_letter, name="warning"),
]
