from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HotlineConfig(AppConfig):
    name = "tongban.hotline"
    label = "hotline"
    verbose_name = _("12345 hotline")

    def ready(self):
        # The work order's activities are registered on the core event log when Django starts.
        from . import activities  # noqa: F401
