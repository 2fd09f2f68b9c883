"""Reads scoped to the user's own account."""

from django.http import Http404

from .models import Membership, Plugin


def plugin_for_user(user, plugin_id: int) -> Plugin:
    """The plugin if it belongs to one of the user's accounts; otherwise 404, as if it did not exist."""
    merchant_ids = Membership.objects.filter(user=user).values("merchant_id")
    plugin = Plugin.objects.filter(pk=plugin_id, merchant_id__in=merchant_ids).first()
    if plugin is None:
        raise Http404("No such plugin.")
    return plugin


def reauthorize_supported(plugin: Plugin) -> bool:
    """Whether "Reauthorize" can start this plugin's platform authorization from here."""
    return plugin.provider.flow.available()
