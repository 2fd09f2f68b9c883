"""Every source platform, registered by key and imported only when used.

Like healthchecks.io's transports: the table below is the one place that
knows which platforms exist; commerce code asks for a client by the key
stored on a plugin and never imports a platform module itself.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from apps.platforms.base import Capabilities, Connection, PlatformClient

PLATFORM_CHOICES = [
    ("sandbox", "Demo marketplace"),
    ("shopify", "Shopify"),
    ("woocommerce", "WooCommerce"),
]

_CLIENT_PATHS = {
    "sandbox": "apps.platforms.sandbox.SandboxClient",
    "shopify": "apps.platforms.shopify.ShopifyClient",
    "woocommerce": "apps.platforms.woocommerce.WooCommerceClient",
}


class UnknownPlatform(KeyError):
    """No platform is registered under this key."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def client_class(key: str) -> type[PlatformClient]:
    """The client class registered under ``key``; raises UnknownPlatform (a KeyError)."""
    try:
        path = _CLIENT_PATHS[key]
    except KeyError:
        known = ", ".join(sorted(_CLIENT_PATHS))
        raise UnknownPlatform(f"Unknown platform {key!r}; known platforms: {known}.") from None
    return import_string(path)


def capabilities(key: str) -> Capabilities:
    """What the platform can do in general (a connected client may know more, e.g. the demo)."""
    return client_class(key).capabilities


def build_client(key: str, connection: Connection) -> PlatformClient:
    """A client for one plugin's connection to the platform ``key``."""
    return client_class(key)(connection)
