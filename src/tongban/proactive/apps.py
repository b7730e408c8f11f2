from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProactiveConfig(AppConfig):
    name = "tongban.proactive"
    label = "proactive"
    verbose_name = _("proactive services and policy matching")

    def ready(self):
        # A benefit's activities are registered on the core event log when Django starts.
        from . import activities  # noqa: F401
