from django.urls import path

from . import views

app_name = "guide"

urlpatterns = [
    path("guide/", views.assistant, name="assistant"),
    path("guide/open", views.open_answer, name="open"),
    path("guide/handoff", views.handoff, name="handoff"),
]
