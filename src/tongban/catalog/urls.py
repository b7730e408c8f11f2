from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("services/", views.portal, name="portal"),
    path("services/items/<str:code>/", views.guide, name="guide"),
    path("services/items/<str:code>/form.pdf", views.application_form, {"kind": "blank"}, name="form_blank"),
    path(
        "services/items/<str:code>/sample.pdf", views.application_form, {"kind": "sample"}, name="form_sample"
    ),
    path("services/bundles/<str:code>/", views.bundle_guide, name="bundle"),
    path("services/departments/<str:code>/", views.department_items, name="department"),
    path("catalog/", views.manage_list, name="manage_list"),
    path("catalog/items/<str:code>/", views.manage_item, name="manage_item"),
    path("catalog/items/<str:code>/publish", views.manage_publish, name="manage_publish"),
    path("catalog/items/<str:code>/discard", views.manage_discard, name="manage_discard"),
]
