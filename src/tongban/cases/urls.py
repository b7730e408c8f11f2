from .views import office, portal, window

app_name = "cases"

urlpatterns = portal.urlpatterns + window.urlpatterns + office.urlpatterns
