"""What the platforms tell a merchant reads in the merchant's language: German (Sie) and French (vous).

Errors keep their message (a ``Said``) so whoever shows or stores one reads
it later in the reader's language; its value stays the English sentence the
other tests, logs and searches see.
"""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from apps.platforms import amazon, shopify, woocommerce
from apps.platforms.base import Connection as PlatformConnection
from apps.platforms.base import (
    NotAuthorized,
    OrderNumberProblem,
    OrderState,
    PlatformError,
    PlatformUnavailable,
    StatusWord,
)
from apps.platforms.http import PlatformHTTP, _human_seconds
from apps.platforms.models import STATUSES as DEMO_STATUSES
from apps.platforms.models import SandboxOrderStatus
from apps.platforms.registry import provider
from apps.platforms.throttle import LocalThrottle
from kitty_troubleshoot.said import Said


def read(message, language: str) -> str:
    with translation.override(language):
        return str(message)


def assert_translated(message, english: str, german: str, french: str) -> None:
    """``message`` is a message whose value is English and which reads German and French in those languages."""
    assert isinstance(message, Said)
    assert message == read(message, "en")
    assert english in read(message, "en")
    assert german in read(message, "de"), read(message, "de")
    assert french in read(message, "fr"), read(message, "fr")
    assert read(message, "de") != read(message, "en") != read(message, "fr")


def raised(call) -> Exception:
    with pytest.raises((PlatformError, OrderNumberProblem)) as caught:
        call()
    return caught.value


def an_http(label: str = "Shopify") -> PlatformHTTP:
    connection = PlatformConnection(bucket="plugin:test", credentials={})
    # No request is sent: the answers below are mapped to errors as they would be after one.
    throttle = LocalThrottle(f"messages-translated:{label}", rate=1, burst=1)
    return PlatformHTTP(connection, label=label, base_url="http://127.0.0.1:9/", throttle=throttle)


def test_a_refused_store_address_is_said_in_the_merchants_language():
    error = raised(lambda: shopify.shop_domain("https://example.com/shop"))

    assert isinstance(error, NotAuthorized)
    assert_translated(
        error.message, "not a myshopify.com address", "keine myshopify.com-Adresse", "myshopify.com"
    )
    with translation.override("de"):
        assert "Verbinden Sie das Plugin" in str(error)  # str(exc) reads the active language
    assert "https://" in read(raised(lambda: woocommerce.api_base("http://shop.example")).message, "fr")


def test_an_order_number_that_cannot_be_amazons_says_what_one_looks_like_in_german_and_french():
    error = raised(lambda: amazon.order_number_read("12"))

    assert_translated(
        error.message, "Amazon order numbers look like", "Amazon-Bestellnummern", "numéros de commande"
    )
    assert amazon.ORDER_NUMBER_EXAMPLE in read(error.message, "de")


def test_the_platforms_answers_are_said_with_the_platforms_name_as_it_is():
    http = an_http("WooCommerce")
    server_error = raised(lambda: http._raise_for_status(httpx.Response(503)))
    unauthorized = raised(lambda: http._raise_for_status(httpx.Response(401)))

    assert isinstance(server_error, PlatformUnavailable)
    assert_translated(
        server_error.message,
        "server error (HTTP 503)",
        "Serverfehler geantwortet (HTTP 503)",
        "erreur serveur",
    )
    assert "WooCommerce" in read(server_error.message, "de") and "WooCommerce" in read(
        server_error.message, "fr"
    )
    assert_translated(
        unauthorized.message, "Reauthorize the plugin", "Autorisieren Sie das Plugin erneut", "Réautorisez"
    )


def test_a_wait_is_counted_in_each_languages_plural():
    limited = an_http("eBay").rate_limited(150)

    assert_translated(limited.message, "we will wait 2 minutes", "2 Minuten", "2 minutes")
    assert read(_human_seconds(1), "de") == "1 Sekunde"
    assert read(_human_seconds(45), "fr") == "45 secondes"


def test_what_an_order_waits_for_and_why_it_never_imports_are_said_in_german_and_french():
    on_hold = woocommerce.order_state("on-hold")
    fraud, _words = shopify.order_state(
        {
            "displayFinancialStatus": "PAID",
            "fulfillmentOrders": {
                "nodes": [{"status": "ON_HOLD", "fulfillmentHolds": [{"reason": "HIGH_RISK_OF_FRAUD"}]}]
            },
        }
    )
    cancelled = amazon.order_state("Canceled")

    assert_translated(
        on_hold.reason, "to confirm the payment", "Bestätigung der Zahlung", "confirmiez le paiement"
    )
    assert_translated(fraud.reason, "fraud hold", "Betrugs-Zurückstellung", "fraude")
    assert_translated(cancelled.reason, "cancelled on Amazon", "storniert", "annulée")
    unknown: StatusWord = shopify.STATUSES.read("SOMETHING_NEW", shopify.HOLD)
    assert_translated(unknown.reason, "“SOMETHING_NEW”", "„SOMETHING_NEW“", "« SOMETHING_NEW »")


def test_every_order_state_and_the_demo_marketplaces_own_words_are_translated():
    for state in OrderState:
        assert read(state.label, "de") != state.label, state
        assert read(state.label, "fr") != state.label, state
    assert read(OrderState.ON_HOLD.label, "de") == "zur Prüfung zurückgestellt"
    for entry in DEMO_STATUSES:
        if entry.reason:
            assert read(entry.reason, "de") != entry.reason and read(entry.reason, "fr") != entry.reason
    with translation.override("fr"):
        assert str(SandboxOrderStatus.PENDING_PAYMENT.label) == "en attente de paiement"
    assert_translated(provider("sandbox").label, "Demo marketplace", "Demo-Marktplatz", "Place de marché")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Darf Commerce Kitty Ihre Bestellungen lesen?", "Zugriff erlauben", "Abbrechen"]),
        ("fr", ["Autoriser Commerce Kitty à lire vos commandes ?", "Autoriser l'accès", "Annuler"]),
    ],
)
def test_the_demo_marketplaces_consent_page_asks_in_the_merchants_language(language, words):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    plugin = type("Plugin", (), {"name": "Kitty <Shop>"})()

    with translation.override(language):
        page = render_to_string(
            "commerce/demo_authorize.html", {"plugin": plugin, "next": "/"}, request=request
        )

    for word in words:
        assert word in page
    assert "<strong>Kitty &lt;Shop&gt;</strong>" in page
    assert "Allow Commerce Kitty to read your orders?" not in page
