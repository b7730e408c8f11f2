"""Open311 GeoReport v2 routes (hotline/open311.py), each with its format: .json or .xml."""

from django.urls import path

from . import open311

app_name = "open311"

urlpatterns = [
    path("discovery.<str:fmt>", open311.discovery, name="discovery"),
    path("services.<str:fmt>", open311.service_list, name="services"),
    path("services/<str:code>.<str:fmt>", open311.service_definition, name="service_definition"),
    path("requests.<str:fmt>", open311.requests, name="requests"),
    path("requests/<str:number>.<str:fmt>", open311.request_detail, name="request"),
    path("tokens/<str:token>.<str:fmt>", open311.token_detail, name="token"),
]
