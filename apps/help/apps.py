from django.apps import AppConfig


class HelpConfig(AppConfig):
    name = "apps.help"
    label = "help"
    verbose_name = "Help center"

    def ready(self):
        from . import signals

        signals.connect()
