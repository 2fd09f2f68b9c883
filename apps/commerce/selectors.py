"""Reads scoped to the account a request works in (``request.account``)."""

from .models import Plugin


def plugin_for_account(account, plugin_id: int) -> Plugin | None:
    """The plugin if it belongs to ``account``; None otherwise, even if it is in another of the user's."""
    if account is None:
        return None
    return Plugin.objects.filter(pk=plugin_id, merchant_id=account.merchant_id).first()


def reauthorize_supported(plugin: Plugin) -> bool:
    """Whether "Reauthorize" can start this plugin's platform authorization from here."""
    return plugin.provider.flow.available()
