"""Every source platform, in one table, each imported only when used.

Like healthchecks.io's integrations: ``PROVIDERS`` is the one place that
knows which platforms exist. A line names the platform's key (stored on a
plugin), the label merchants see and the module that implements it. Platform
fields (``apps.platforms.fields.PlatformField``) validate against it and
offer its lines as a select, so a new line needs no migration. Commerce code
asks a provider what the platform can do ("does it support Reauthorize?", "start authorization",
"handle the answer") and never branches on a platform's name.

A provider module provides:
- ``CLIENT``: its ``PlatformClient`` subclass, with the class attributes
  ``key`` (the table's key), ``label``, ``capabilities`` and
  ``credential_fields``;
- ``AUTHORIZATION`` (optional): an ``AuthorizationFlow`` instance; without
  one, merchants are told to reconnect the plugin in Commerce Kitty;
- ``order_number_read`` (optional): the order number a merchant typed, as the
  platform writes it, raising ``OrderNumberProblem`` when it cannot be one;
  without it, any number is taken as typed;
- ``STATUSES``: a ``StatusTable``, the platform's whole order-state
  vocabulary (each word, its meaning, and whether it imports, not yet, or never);
- ``DEMO_STATUSES`` (optional): ``{OrderState: StatusWord}``, one entry of
  ``STATUSES`` per state with the words as the platform says them, so a demo
  order can speak as the platform does.
A module written before this table (a client class and nothing else) plugs
in by naming its class: ``Provider("etsy", "Etsy", "apps.platforms.etsy", client="EtsyClient")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.platforms.authorization import NO_AUTHORIZATION, AuthorizationFlow
from apps.platforms.base import Capabilities, Connection, OrderState, PlatformClient, StatusWord
from kitty_troubleshoot.said import said


@dataclass(frozen=True)
class Provider:
    """One line of the table: what is known without importing the platform's module."""

    key: str
    label: str
    module: str
    client: str = "CLIENT"  # attribute of the module holding the client class
    authorization: str = "AUTHORIZATION"  # attribute holding the flow; absent: none
    # The settings (read from environment variables of the same names) holding the platform's app
    # keys: all of them or none, else the process refuses to start; with all set, its flow can run.
    app_settings: tuple[str, ...] = ()
    # App settings the platform uses when they are set and does without otherwise.
    optional_app_settings: tuple[str, ...] = ()

    def app_keys_configured(self) -> bool:
        """Whether every one of ``app_settings`` is set (False for a platform that has none)."""
        return bool(self.app_settings) and all(getattr(settings, name, "") for name in self.app_settings)

    @property
    def client_class(self) -> type[PlatformClient]:
        return _attribute(self.module, self.client)

    @property
    def capabilities(self) -> Capabilities:
        """What the platform can do in general, read from the client class (no client is built)."""
        return self.client_class.capabilities

    @property
    def flow(self) -> AuthorizationFlow:
        """The platform's authorization flow (one that is never available when the module has none)."""
        try:
            return _attribute(self.module, self.authorization)
        except AttributeError:
            return NO_AUTHORIZATION

    @property
    def demo_statuses(self) -> dict[OrderState, StatusWord]:
        """The platform's table entry (its word as the platform says it) for each state, for the demo to imitate.

        From the module's optional ``DEMO_STATUSES``; empty when it has none.
        """
        try:
            return _attribute(self.module, "DEMO_STATUSES")
        except AttributeError:
            return {}

    def order_number(self, typed: str) -> str:
        """``typed`` as the platform writes its order numbers; raises OrderNumberProblem when it cannot be one."""
        try:
            read = _attribute(self.module, "order_number_read")
        except AttributeError:
            return typed
        return read(typed)

    def build_client(self, connection: Connection) -> PlatformClient:
        return self.client_class(connection)


PROVIDERS: tuple[Provider, ...] = (
    # The one label that is words rather than a name: a message, read in the merchant's language.
    Provider("sandbox", said("Demo marketplace"), "apps.platforms.sandbox"),
    Provider(
        "shopify",
        "Shopify",
        "apps.platforms.shopify",
        app_settings=("SHOPIFY_CLIENT_ID", "SHOPIFY_CLIENT_SECRET"),
    ),
    Provider("woocommerce", "WooCommerce", "apps.platforms.woocommerce"),
    Provider(
        "bigcommerce",
        "BigCommerce",
        "apps.platforms.bigcommerce",
        app_settings=("BIGCOMMERCE_CLIENT_ID", "BIGCOMMERCE_CLIENT_SECRET", "BIGCOMMERCE_APP_ID"),
    ),
    Provider(
        "ebay",
        "eBay",
        "apps.platforms.ebay",
        app_settings=("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET", "EBAY_RU_NAME"),
    ),
    Provider(
        "amazon",
        "Amazon",
        "apps.platforms.amazon",
        client="AmazonClient",
        app_settings=("AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET"),
        optional_app_settings=("AMAZON_SPAPI_APPLICATION_ID",),
    ),
    Provider(
        "etsy",
        "Etsy",
        "apps.platforms.etsy",
        client="EtsyClient",
        app_settings=("ETSY_KEYSTRING",),
        optional_app_settings=("ETSY_SHARED_SECRET",),
    ),
)

_BY_KEY = {provider.key: provider for provider in PROVIDERS}


def platform_choices() -> list[tuple[str, str]]:
    """(key, label) of every registered platform, in the table's order: what a platform select offers."""
    return [(line.key, line.label) for line in _BY_KEY.values()]


def app_settings_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Every platform's app keys from ``environ`` (stripped; "" when unset), for the settings module.

    Raises ImproperlyConfigured, naming what is missing, when a platform has
    only some of its ``app_settings``: half a set of keys would leave
    "Reauthorize" failing at the platform rather than the process at start.
    """
    values: dict[str, str] = {}
    for line in PROVIDERS:
        given = {
            name: environ.get(name, "").strip() for name in (*line.app_settings, *line.optional_app_settings)
        }
        missing = [name for name in line.app_settings if not given[name]]
        if missing and len(missing) < len(line.app_settings):
            raise ImproperlyConfigured(
                f"{line.label}'s app keys are set only in part: set {', '.join(missing)} too, "
                f"or unset all of {', '.join(line.app_settings)}."
            )
        values.update(given)
    return values


@cache
def _attribute(module: str, name: str):
    return getattr(import_module(module), name)


class UnknownPlatform(KeyError):
    """No platform is registered under this key."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def provider(key: str) -> Provider:
    """The provider registered under ``key``; raises UnknownPlatform (a KeyError)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        known = ", ".join(sorted(_BY_KEY))
        raise UnknownPlatform(
            said("Unknown platform %(key)s; known platforms: %(known)s.", key=repr(key), known=known)
        ) from None


def client_class(key: str) -> type[PlatformClient]:
    """The client class registered under ``key``; raises UnknownPlatform (a KeyError)."""
    return provider(key).client_class


def capabilities(key: str) -> Capabilities:
    """What the platform can do in general (a connected client may know more, e.g. the demo)."""
    return provider(key).capabilities


def build_client(key: str, connection: Connection) -> PlatformClient:
    """A client for one plugin's connection to the platform ``key``."""
    return provider(key).build_client(connection)
