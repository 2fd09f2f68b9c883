"""The provider table: one line per platform, and no platform known by name outside apps/platforms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.commerce.models import Plugin
from apps.incidents.models import Incident
from apps.platforms import registry
from apps.platforms.authorization import DEFAULT_RECONNECT_ADVICE, AuthorizationFlow
from apps.platforms.base import Capabilities, PlatformClient
from apps.platforms.shopify import ShopifyClient
from apps.platforms.woocommerce import WooCommerceClient

ROOT = Path(__file__).resolve().parents[2]


class OneLineClient(PlatformClient):
    """A client module written against base.py alone, as a platform added later would be."""

    key = "oneline"
    label = "One Line"
    capabilities = Capabilities(backfill=False, manual_sync=True, history_days=30)
    credential_fields = ("token",)

    def get_order(self, number):
        return None

    def list_orders(self, since):
        return iter(())

    def check_authorization(self):
        return None


def test_every_provider_has_a_client_with_the_same_key_and_label():
    for provider in registry.PROVIDERS:
        client_class = provider.client_class
        assert (client_class.key, client_class.label) == (provider.key, provider.label)
        assert isinstance(provider.capabilities, Capabilities)
        assert isinstance(provider.flow, AuthorizationFlow)


def test_the_platform_fields_offer_the_table_without_choices():
    for model in (Plugin, Incident):
        field = model._meta.get_field("platform")
        assert field.choices is None  # nothing for a migration to copy
        assert field.flatchoices == [(p.key, p.label) for p in registry.PROVIDERS]


def test_unknown_platform_is_a_clear_key_error():
    with pytest.raises(KeyError) as caught:
        registry.client_class("myspace")

    assert str(caught.value).startswith("Unknown platform 'myspace'; known platforms: ")
    assert "shopify" in str(caught.value)


def test_capabilities_by_key_without_building_a_client():
    assert registry.capabilities("shopify") == Capabilities(backfill=True, manual_sync=True, history_days=60)
    assert registry.capabilities("woocommerce").history_days is None


def test_build_client_wraps_the_connection(make_connection):
    connection = make_connection({"site_url": "https://shop.example"})

    assert isinstance(registry.build_client("woocommerce", connection), WooCommerceClient)
    assert registry.build_client("shopify", connection).connection is connection
    assert registry.client_class("shopify") is ShopifyClient


def test_a_client_module_plugs_in_with_one_line_and_no_flow(make_connection):
    line = registry.Provider("oneline", "One Line", __name__, client="OneLineClient")

    assert line.capabilities.history_days == 30
    assert isinstance(line.build_client(make_connection({})), OneLineClient)
    # No authorization flow of its own: Reauthorize is not offered, and the step says how to reconnect.
    assert line.flow.available() is False
    assert line.flow.reconnect_advice() == DEFAULT_RECONNECT_ADVICE


def test_shopify_reauthorize_is_available_only_with_the_apps_keys(settings):
    flow = registry.provider("shopify").flow
    settings.SHOPIFY_CLIENT_ID = settings.SHOPIFY_CLIENT_SECRET = ""
    assert not flow.available()
    assert "Admin API access token" in flow.reconnect_advice()
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = "id", "secret"
    assert flow.available()


# --- Nothing outside apps/platforms knows a platform by name -------------------------------------

_KEYS = "|".join(re.escape(provider.key) for provider in registry.PROVIDERS)
# A platform's key as a string literal ("shopify", 'sandbox'), or a comparison of
# a platform against any literal (platform == "x", platform in {"x", ...}).
_NAMED = re.compile(rf"""["'](?:{_KEYS})["']""")
_BRANCH = re.compile(r"""platform\s*(?:==|!=|\bnot\s+in\b|\bin\b)\s*[\[({]?\s*["']""")


def _sources_outside_platforms():
    for base in ("apps", "templates", "kitty_troubleshoot"):
        for path in sorted((ROOT / base).rglob("*")):
            relative = path.relative_to(ROOT)
            if path.suffix not in {".py", ".html", ".txt"} or "migrations" in relative.parts:
                continue
            if relative.parts[:2] == ("apps", "platforms"):
                continue
            yield relative, path.read_text(encoding="utf-8")


def test_no_code_outside_apps_platforms_branches_on_a_platform_name():
    offending = [
        f"{relative}:{number}: {line.strip()}"
        for relative, text in _sources_outside_platforms()
        for number, line in enumerate(text.splitlines(), 1)
        if _NAMED.search(line) or _BRANCH.search(line)
    ]

    assert offending == []


def test_the_name_check_would_catch_the_old_branches():
    assert _BRANCH.search('    if plugin.platform == "shopify":')
    assert _BRANCH.search('    return plugin.platform in {"sandbox", "woocommerce"}')
    assert _NAMED.search('        platform="sandbox",')
    assert not _BRANCH.search("    if plugin.platform != chosen.key:")
