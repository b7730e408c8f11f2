from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "tongban.documents"
    label = "documents"
    verbose_name = _("official documents (公文)")

    def ready(self):
        # The document's activities are registered on the core event log when Django starts.
        from . import (
            activities,  # noqa: F401
            search,
        )

        search.connect()  # a document's search entry follows every save of it
