from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    label = "licences"
    verbose_name = _("E-licences")

    def ready(self):
        # Cases announce results and reused materials; this app listens (cases never imports it).
        from tongban.cases import reuse, signals

        from . import handover

        signals.result_issued.connect(handover.on_result_issued, dispatch_uid="licences.result_issued")
        signals.materials_reused.connect(handover.on_materials_reused, dispatch_uid="licences.reused")
        reuse.register(reuse.LICENCE, handover.find_licence)
