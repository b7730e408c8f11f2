from django.urls import path

from . import views

app_name = "hotline"

urlpatterns = [
    path("hotline/", views.order_list, name="order_list"),
    path("hotline/console", views.console, name="console"),
    path("hotline/console/suggest", views.suggest, name="suggest"),
    path("hotline/console/earlier", views.earlier, name="earlier"),
    path("hotline/console/knowledge", views.knowledge, name="knowledge"),
    path("hotline/rates", views.rates, name="rates"),
    path("hotline/new", views.portal_form, name="portal_form"),
    path("hotline/mine", views.my_orders, name="my_orders"),
    path("hotline/new/similar", views.similar_orders, name="similar_orders"),
    path("hotline/hotspots", views.hotspots, name="hotspots"),
    path("hotline/orders/<str:number>/follow", views.follow, name="follow"),
    path("hotline/orders/<str:number>/", views.order_detail, name="order_detail"),
    path("hotline/orders/<str:number>/contact", views.order_contact, name="order_contact"),
]
