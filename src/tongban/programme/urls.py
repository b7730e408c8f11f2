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
    path("programme/<str:code>/tasks/<str:task>/weekly", views.task_weekly, name="weekly"),
    path(
        "programme/<str:code>/tasks/<str:task>/weekly/<str:week>/evidence/<int:number>",
        views.weekly_evidence,
        name="weekly_evidence",
    ),
    path("programme/<str:code>/weekly", views.programme_weekly, name="programme_weekly"),
    path("programme/<str:code>/funds", views.programme_funds, name="funds"),
    path("programme/<str:code>/risks", views.risk_register, name="risks"),
    path("programme/<str:code>/weekly.pdf", views.programme_weekly_pdf, name="programme_weekly_pdf"),
    # public consultation: the staff side first (consultation codes are ZJ<year><n>, never "manage")
    path("consultations/manage/", views.consultation_manage_list, name="consultation_manage_list"),
    path("consultations/manage/new", views.consultation_create, name="consultation_create"),
    path("consultations/manage/<str:code>/", views.consultation_manage, name="consultation_manage"),
    path("consultations/manage/<str:code>/publish", views.consultation_publish, name="consultation_publish"),
    path(
        "consultations/manage/<str:code>/comments/<int:number>/moderate",
        views.comment_moderate,
        name="comment_moderate",
    ),
    path(
        "consultations/manage/<str:code>/comments/<int:number>/decide",
        views.comment_decide,
        name="comment_decide",
    ),
    path(
        "consultations/manage/<str:code>/report",
        views.consultation_publish_report,
        name="consultation_publish_report",
    ),
    path("consultations/", views.consultation_list, name="consultation_list"),
    path("consultations/<str:code>/", views.consultation_public, name="consultation_public"),
    path("consultations/<str:code>/comment", views.consultation_comment, name="consultation_comment"),
    path(
        "consultations/<str:code>/receipt/<str:receipt>",
        views.consultation_receipt,
        name="consultation_receipt",
    ),
    path("consultations/<str:code>/report", views.consultation_report, name="consultation_report"),
    path(
        "consultations/<str:code>/report.pdf", views.consultation_report_pdf, name="consultation_report_pdf"
    ),
]
