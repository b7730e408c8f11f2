from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    label = "exchange"
    verbose_name = _("Data sharing")

    def ready(self):
        # The cases app finds shared data through its registry; it never imports this app.
        from tongban.cases import reuse as registry

        from .reuse import find_shared

        registry.register(registry.SHARED, find_shared)
