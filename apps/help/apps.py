from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpConfig(AppConfig):
    name = "apps.help"
    label = "help"
    verbose_name = _("Help center")

    def ready(self):
        from . import signals

        signals.connect()
