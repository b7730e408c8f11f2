from django.urls import path

from . import views

app_name = "workflow"

urlpatterns = [
    path("processes/", views.definition_list, name="definition_list"),
    # Before the key route: "upload" is not a key.
    path("processes/upload/", views.definition_upload, name="definition_upload"),
    path("processes/<str:key>/", views.definition_detail, name="definition_detail"),
    path("processes/<str:key>/v<int:version>.bpmn", views.definition_xml, name="definition_xml"),
]
