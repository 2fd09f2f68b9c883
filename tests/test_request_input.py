"""Input a person or a forger can put in a request gets an ordinary answer, never a 500.

Each test replays a request that once answered 500: a bare word as the return
address, a full-width digit in Shopify's HMAC, a superscript as a page number,
and thousands of nested arrays posted to the WooCommerce callback.
"""

import uuid

import pytest
from django.test import Client, RequestFactory

from apps.commerce.models import AuthorizationState, Plugin
from kitty_troubleshoot.params import BodyRefused, int_param, json_body, safe_next, same_secret
from tests.factories import MembershipFactory, PluginFactory

pytestmark = pytest.mark.django_db

DEEP_JSON = b"[" * 5000 + b"]" * 5000


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.raise_request_exception = False
    client.merchant = membership.merchant
    return client


def test_a_bare_word_as_the_return_address_goes_back_to_the_help_center(owner):
    plugin = PluginFactory(merchant=owner.merchant, name="Gift shop")

    consent = owner.get(f"/account/plugins/{plugin.pk}/demo-authorize/?next=help")
    allowed = owner.post(f"/account/plugins/{plugin.pk}/demo-authorize/", {"allow": "1", "next": "help"})
    cancelled = owner.post(f"/account/plugins/{plugin.pk}/demo-authorize/", {"next": "help"})

    assert consent.status_code == 200
    assert 'value="/help/"' in consent.content.decode()
    assert (allowed.status_code, allowed["Location"]) == (302, "/help/")
    assert (cancelled.status_code, cancelled["Location"]) == (302, "/help/")
    assert Plugin.objects.get(pk=plugin.pk).authorization_status == Plugin.Authorization.AUTHORIZED


def test_a_reauthorization_started_with_a_bare_word_returns_to_the_help_center(owner, settings):
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = "app-client-id", "shpss_secret"
    plugin = PluginFactory(
        merchant=owner.merchant,
        platform="shopify",
        credentials={"shop": "kitty.myshopify.com", "access_token": "x"},
    )

    started = owner.get(f"/account/plugins/{plugin.pk}/reauthorize/?next=help")

    assert started.status_code == 302
    assert started["Location"].startswith("https://kitty.myshopify.com/admin/oauth/authorize")
    assert AuthorizationState.objects.get(plugin=plugin).next_url == "/help/"


def test_a_non_ascii_shopify_signature_is_refused_in_words(owner, settings):
    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = "app-client-id", "shpss_secret"

    response = owner.get(
        "/account/oauth/shopify/callback/", {"code": "x", "state": "s", "hmac": "１", "shop": "a"}
    )

    assert response.status_code == 400
    assert "Shopify" in response.content.decode() or "signature" in response.content.decode().lower()


def test_a_superscript_page_number_on_a_search_click_is_not_an_error(article):
    response = Client(raise_request_exception=False).get(f"/feedback/search/{uuid.uuid4()}/?page=²&step=²")

    assert response.status_code in {302, 404}


def test_thousands_of_nested_arrays_posted_to_the_woocommerce_callback_are_refused_in_words():
    response = Client(raise_request_exception=False).post(
        "/account/oauth/woocommerce/callback/", DEEP_JSON, content_type="application/json"
    )

    assert response.status_code == 400
    assert "nested more than" in response.content.decode()


# --- The helpers every view reads input with ---------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), ("١٢", 12), ("１２", 12), ("²", None), ("-1", None), (" 1", None), ("1.5", None), ("", None),
     (None, None), ("9" * 19, None)],
)  # fmt: skip
def test_int_param_reads_decimal_digits_only(raw, expected):
    assert int_param(raw) == expected


def test_int_param_keeps_to_its_bounds():
    assert int_param("0", minimum=1) is None
    assert int_param("1000", maximum=999, default=7) == 7
    assert int_param("5", minimum=1, maximum=9) == 5


@pytest.mark.parametrize(
    ("value", "secure", "expected"),
    [
        ("/help/x/#step-2", False, "/help/x/#step-2"),
        ("help", False, "/help/"),
        ("//evil.example/", False, "/help/"),
        ("https://evil.example/", False, "/help/"),
        ("http://testserver/help/", True, "/help/"),
        ("https://testserver/help/a/", True, "https://testserver/help/a/"),
        (None, False, "/help/"),
    ],
)
def test_safe_next_keeps_the_browser_on_this_site(value, secure, expected):
    request = RequestFactory().get("/", secure=secure)

    assert safe_next(request, value) == expected


def test_same_secret_compares_any_text_without_raising():
    assert same_secret("abc", "abc")
    assert not same_secret("１", "abc")
    assert not same_secret("\udcff", "abc")
    assert not same_secret(None, "abc")
    assert not same_secret("", "")


def test_json_body_refuses_depth_and_size_in_words():
    assert json_body(b'{"a": [1, {"b": "[[[["}]}') == {"a": [1, {"b": "[[[["}]}
    with pytest.raises(BodyRefused, match="nested more than 20"):
        json_body(DEEP_JSON)
    with pytest.raises(BodyRefused, match="larger than"):
        json_body(b" " * (64 * 1024 + 1))
    with pytest.raises(BodyRefused, match="Expected JSON"):
        json_body(b"{nope")
