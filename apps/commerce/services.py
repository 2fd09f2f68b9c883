"""Writes to a merchant's account that are not part of the import itself."""

from django.db import transaction
from django.utils import timezone

from apps.platforms.base import NotAuthorized
from apps.platforms.models import SandboxStore

from .models import Notification, Plugin


@transaction.atomic
def plugin_reauthorize_demo(*, plugin: Plugin) -> None:
    """The demo marketplace's consent: the store issues a fresh token and the plugin keeps it."""
    store = SandboxStore.objects.select_for_update().filter(handle=plugin.credentials.get("store")).first()
    if store is None:
        raise NotAuthorized(
            f"“{plugin.name}” is connected to a demo store that no longer exists. "
            "An admin can connect it to another store in Django admin."
        )
    store.reject_credentials = False
    token = store.rotate_token()
    store.save(update_fields=["reject_credentials"])
    plugin_credentials_renew(plugin=plugin, new_credentials={"access_token": token})


@transaction.atomic
def plugin_credentials_renew(*, plugin: Plugin, new_credentials: dict) -> None:
    """Keep what an authorization flow returned; the plugin counts as authorized again."""
    plugin.credentials = {**plugin.credentials, **new_credentials}
    plugin.authorization_status = Plugin.Authorization.AUTHORIZED
    plugin.authorization_error = ""
    plugin.authorization_checked_at = timezone.now()
    plugin.save(
        update_fields=[
            "credentials",
            "authorization_status",
            "authorization_error",
            "authorization_checked_at",
        ]
    )
    Notification.objects.filter(plugin=plugin, kind=Notification.Kind.AUTHORIZATION, read=False).update(
        read=True
    )
