from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("exchange/", views.resource_list, name="resource_list"),
    path("exchange/resources/<slug:code>/", views.resource_detail, name="resource_detail"),
    path("exchange/grants/", views.grant_list, name="grant_list"),
    path("exchange/grants/new", views.grant_request, name="grant_request"),
    path("exchange/grants/<str:reference>/", views.grant_detail, name="grant_detail"),
    path("exchange/grants/<str:reference>/decide", views.grant_decide, name="grant_decide"),
    path("exchange/grants/<str:reference>/revoke", views.grant_revoke, name="grant_revoke"),
    path("exchange/negative-list/", views.negative_list, name="negative_list"),
    path("exchange/negative-list/remove", views.negative_remove, name="negative_remove"),
    path("exchange/calls/", views.call_log, name="call_log"),
]
