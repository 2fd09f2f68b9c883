from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "apps.commerce"
    label = "commerce"
    verbose_name = "Commerce Kitty accounts"

    def ready(self):
        # Registers the order-import checks and the account directory.
        from . import diagnostics  # noqa: F401
        from .fields import credentials_key_validate

        # A malformed CREDENTIALS_KEY stops the process now, not at the first credential read.
        credentials_key_validate()
