from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("documents/", views.worklist, name="worklist"),
    path("documents/all", views.document_list, name="list"),
    path("documents/new", views.create, name="create"),
    path("documents/verify", views.verify, name="verify"),
    path("documents/archive/", views.archive, name="archive"),
    path("documents/search", views.search_page, name="search"),
    path("documents/received/", views.received, name="received"),
    path("documents/received/<str:ref>/", views.receipt, name="receipt"),
    path("documents/received/<str:ref>/pdf", views.receipt_pdf, name="receipt_pdf"),
    path("documents/received/<str:ref>/sign-for", views.receipt_sign_for, name="receipt_sign_for"),
    path("documents/received/<str:ref>/steps/<uuid:work_id>", views.receipt_step, name="receipt_step"),
    path("documents/supervision/", views.tasks, name="tasks"),
    path("documents/supervision/<str:ref>/", views.task, name="task"),
    path("documents/supervision/<str:ref>/report", views.task_report, name="task_report"),
    path("documents/supervision/<str:ref>/close", views.task_close, name="task_close"),
    path("documents/supervision/<str:ref>/notice", views.task_notice, name="task_notice"),
    path("documents/d/<str:ref>/", views.detail, name="detail"),
    path("documents/d/<str:ref>/edit", views.edit, name="edit"),
    path("documents/d/<str:ref>/diff", views.diff, name="diff"),
    path("documents/d/<str:ref>/pdf", views.pdf, name="pdf"),
    path("documents/d/<str:ref>/ofd", views.ofd_download, name="ofd"),
    path("documents/d/<str:ref>/withdraw", views.withdraw, name="withdraw"),
    path("documents/d/<str:ref>/dispose", views.dispose, name="dispose"),
    path("documents/d/<str:ref>/steps/<uuid:work_id>", views.step, name="step"),
]
