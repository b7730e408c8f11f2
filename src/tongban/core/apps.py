from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "tongban.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import signals, tasks  # noqa: F401  (registers signal handlers and periodic jobs)
