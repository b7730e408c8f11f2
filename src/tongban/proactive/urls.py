from django.urls import path

from . import views

app_name = "proactive"

urlpatterns = [
    path("policies/", views.mine, name="mine"),
    path("policies/enterprises/<str:uscc>/", views.enterprise, name="enterprise"),
    path("policies/benefits/<str:reference>/contest", views.contest, name="contest"),
    path("policies/benefits/<str:reference>/review", views.review, name="review"),
    path("policies/manage/", views.manage, name="manage"),
    path("policies/manage/new", views.edit, name="new"),
    path("policies/manage/run", views.run, name="run"),
    path("policies/manage/contests", views.contests, name="contests"),
    path("policies/manage/<slug:code>/", views.edit, name="edit"),
    path("policies/manage/<slug:code>/results", views.results, name="results"),
]
