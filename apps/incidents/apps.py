from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "apps.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from .services import support_editors_may_handle_incidents

        # Permissions exist only after migrate; editors get them then (and after a test's flush).
        post_migrate.connect(
            support_editors_may_handle_incidents, sender=self, dispatch_uid="incidents-editor-permissions"
        )
