from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "apps.commerce"
    label = "commerce"
    verbose_name = "Commerce Kitty accounts"

    def ready(self):
        # Registers the order-import checks and the account directory.
        from . import diagnostics  # noqa: F401
