"""The registry: one table of platforms, imported lazily."""

from __future__ import annotations

import pytest

from apps.platforms import registry
from apps.platforms.base import Capabilities
from apps.platforms.shopify import ShopifyClient
from apps.platforms.woocommerce import WooCommerceClient


def test_every_choice_has_a_client_with_the_same_key_and_label():
    for key, label in registry.PLATFORM_CHOICES:
        client_class = registry.client_class(key)
        assert (client_class.key, client_class.label) == (key, label)


def test_unknown_platform_is_a_clear_key_error():
    with pytest.raises(KeyError) as caught:
        registry.client_class("myspace")

    assert str(caught.value) == (
        "Unknown platform 'myspace'; known platforms: sandbox, shopify, woocommerce."
    )


def test_capabilities_by_key():
    assert registry.capabilities("shopify") == Capabilities(backfill=True, manual_sync=True, history_days=60)
    assert registry.capabilities("woocommerce").history_days is None


def test_build_client_wraps_the_connection(make_connection):
    connection = make_connection({"site_url": "https://shop.example"})

    assert isinstance(registry.build_client("woocommerce", connection), WooCommerceClient)
    assert registry.build_client("shopify", connection).connection is connection
    assert registry.client_class("shopify") is ShopifyClient
