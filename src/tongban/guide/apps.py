from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuideConfig(AppConfig):
    name = "tongban.guide"
    label = "guide"
    verbose_name = _("guide assistant (智能导办)")
