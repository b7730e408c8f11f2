from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "tongban.workflow"
    label = "workflow"
    verbose_name = _("Processes")

    def ready(self):
        from tongban.core import process_models

        from . import activities, services

        activities.register()
        process_models.provide(listing=services.models_for_analysis, xml=services.model_xml_for_analysis)
