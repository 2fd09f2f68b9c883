from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The help center's other doors: the JSON API (/api/v1/) and the MCP server (/mcp/), with the tokens they take."""

    name = "apps.api"
    label = "api"
    verbose_name = "API and MCP"

    def ready(self):
        from django.db.models.signals import post_delete

        from apps.commerce.models import Membership

        post_delete.connect(_membership_ended, sender=Membership, dispatch_uid="api-revoke-tokens-of-leaver")


def _membership_ended(sender, instance, **kwargs):
    """Someone left an account (or it was deleted): the tokens they made for it are revoked."""
    from .tokens import tokens_revoke_of_leaver

    tokens_revoke_of_leaver(user_id=instance.user_id, merchant_id=instance.merchant_id)
