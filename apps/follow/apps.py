from django.apps import AppConfig


class FollowConfig(AppConfig):
    """Follow-through after a diagnosis: watching a missing order, and the notifications inbox."""

    name = "apps.follow"
    label = "follow"

    def ready(self):
        from apps.commerce.signals import orders_imported

        from .services import watches_follow_soon

        orders_imported.connect(watches_follow_soon, dispatch_uid="follow-watches-after-import")
