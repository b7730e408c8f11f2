from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammeConfig(AppConfig):
    name = "tongban.programme"
    label = "programme"
    verbose_name = _("Reform programme office")

    def ready(self):
        # A task's activities are registered on the core event log when Django starts.
        from . import activities  # noqa: F401
