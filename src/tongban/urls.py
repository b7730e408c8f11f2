from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from .api import api

# The API first: its prefix settles an API request at once, where the page patterns (mounted at
# the root) would otherwise all be tried before it.
urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("tongban.web.urls")),
    path("", include("tongban.accounts.urls")),
    path("", include("tongban.core.urls")),
    path("", include("tongban.catalog.urls")),
    path("", include("tongban.workflow.urls")),
    path("", include("tongban.cases.urls")),
    path("", include("tongban.licences.urls")),
    path("", include("tongban.exchange.urls")),
    path("", include("tongban.hotline.urls")),
    path("open311/v2/", include("tongban.hotline.open311_urls")),
    path("", include("tongban.guide.urls")),
    path("", include("tongban.proactive.urls")),
    path("", include("tongban.documents.urls")),
    path("", include("tongban.insight.urls")),
    path("", include("tongban.programme.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]

handler403 = "tongban.web.views.error_403"
handler404 = "tongban.web.views.error_404"
handler500 = "tongban.web.views.error_500"
