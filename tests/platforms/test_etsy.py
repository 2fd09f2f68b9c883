"""EtsyClient against a local server answering in the Open API v3's shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from apps.platforms import etsy
from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    OrderNumberProblem,
    OrderState,
    PaginationStuck,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from apps.platforms.etsy import DAILY_QUOTA_PAUSE, EtsyClient, order_number_read, source_order
from apps.platforms.oauth2 import AppKeys
from tests.platforms.status_words import assert_step_six_follows, every_word

KEYSTRING = "1aa2bb33c44d55eeeeee6fff"
SHARED_SECRET = "etsy-shared-secret-9z8y"
ACCESS_TOKEN = (
    "12345678.jKBPLnOiYt7vpWlsny_lDKqINn4Ny_jwH89hA4IZgggyzqmV_bmQHGJ3HOHH2DmZxOJn5V1qQFnVP9bCn9jnrggCRz"
)
REFRESH_TOKEN = (
    "12345678.JNGIJtvLmwfDMhlYoOJl8aLR1BWottyHC6yhNcET-eC7RogSR5e1GTIXGrgrelWZalvh3YvvyLfKYYqvymd-u37Sjtx"
)
NEW_ACCESS_TOKEN = "12345678.new-access-token-after-refresh"
NEW_REFRESH_TOKEN = "12345678.new-refresh-token-after-refresh"
SHOP_ID = "23456789"
RECEIPTS = f"/v3/application/shops/{SHOP_ID}/receipts"
TOKEN_PATH = "/v3/public/oauth/token"
JAN_5_10AM = 1767607200  # 2026-01-05T10:00:00Z


def receipt(
    number: int = 2345678901, *, status: str = "paid", is_paid: bool = True, created: int = JAN_5_10AM
):
    return {
        "receipt_id": number,
        "receipt_type": 0,
        "seller_user_id": 12345678,
        "buyer_user_id": 87654321,
        "buyer_email": "ada@example.com",
        "name": "Ada Lovelace",
        "first_line": "1 Analytical Row",
        "second_line": None,
        "city": "London",
        "state": None,
        "zip": "N1 1AA",
        "country_iso": "GB",
        "status": status,
        "payment_method": "cc",
        "is_paid": is_paid,
        "is_shipped": False,
        "create_timestamp": created,
        "created_timestamp": created,
        "update_timestamp": created,
        "updated_timestamp": created,
        "grandtotal": {"amount": 2490, "divisor": 100, "currency_code": "EUR"},
        "transactions": [
            {
                "transaction_id": 4444444444,
                "title": "Blue mug",
                "quantity": 2,
                "sku": "MUG-BLUE-001",
                "receipt_id": number,
                "price": {"amount": 1245, "divisor": 100, "currency_code": "EUR"},
            }
        ],
    }


def receipts_body(results: list[dict], count: int | None = None) -> dict:
    return {"count": len(results) if count is None else count, "results": results}


def fresh_credentials(httpserver, **overrides) -> dict:
    credentials = {
        "shop_id": SHOP_ID,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "access_token_expires_at": time.time() + 3000,
        "keystring": KEYSTRING,
        "shared_secret": SHARED_SECRET,
        "base_url": httpserver.url_for("/").rstrip("/"),
        "token_url": httpserver.url_for(TOKEN_PATH),
    }
    credentials.update(overrides)
    return credentials


@pytest.fixture
def kept() -> list[dict]:
    """What the client handed over to be saved with the plugin's credentials."""
    return []


@pytest.fixture
def connect(httpserver, make_connection, kept):
    def connect(**overrides) -> EtsyClient:
        connection = make_connection(fresh_credentials(httpserver, **overrides))
        connection = type(connection)(
            bucket=connection.bucket,
            credentials=connection.credentials,
            timeout=connection.timeout,
            credentials_renewed=kept.append,
        )
        return EtsyClient(connection)

    return connect


@pytest.fixture
def client(connect) -> EtsyClient:
    return connect()


def expect_receipts(httpserver, path: str = RECEIPTS, *, token: str = ACCESS_TOKEN, query_string=None):
    return httpserver.expect_request(
        path,
        method="GET",
        headers={"x-api-key": f"{KEYSTRING}:{SHARED_SECRET}", "Authorization": f"Bearer {token}"},
        query_string=query_string,
    )


def expect_token(httpserver):
    return httpserver.expect_request(TOKEN_PATH, method="POST")


def rotated() -> dict:
    return {
        "access_token": NEW_ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": NEW_REFRESH_TOKEN,
    }


def token_requests(httpserver) -> list[Request]:
    return [request for request, _response in httpserver.log if request.path == TOKEN_PATH]


def api_requests(httpserver) -> list[Request]:
    return [request for request, _response in httpserver.log if request.path != TOKEN_PATH]


# --- Statuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "is_paid", "state", "platform_status"),
    [
        ("paid", True, OrderState.IMPORTABLE, "paid"),
        ("completed", True, OrderState.IMPORTABLE, "completed"),
        ("open", True, OrderState.IMPORTABLE, "open"),
        ("partially refunded", True, OrderState.IMPORTABLE, "partially refunded"),
        ("open", False, OrderState.PENDING_PAYMENT, "open, not paid"),
        ("payment processing", False, OrderState.PENDING_PAYMENT, "payment processing"),
        ("payment processing", True, OrderState.PENDING_PAYMENT, "payment processing"),
        ("canceled", True, OrderState.CANCELLED, "canceled"),
        ("fully refunded", True, OrderState.REFUNDED, "fully refunded"),
        ("something new", True, OrderState.ON_HOLD, "something new"),
    ],
)
def test_order_state_follows_is_paid_and_the_receipt_status(
    client, httpserver, status, is_paid, state, platform_status
):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(
        receipt(status=status, is_paid=is_paid)
    )

    order = client.get_order("2345678901")

    assert order.state == state
    assert order.platform_status == platform_status


# --- One receipt ----------------------------------------------------------------------


def test_get_order_reads_the_receipt(client, httpserver):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(receipt())

    order = client.get_order("Order #2345678901")

    assert (order.id, order.number) == ("2345678901", "2345678901")
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert (order.buyer.address_line1, order.buyer.city, order.buyer.postcode, order.buyer.country) == (
        "1 Analytical Row",
        "London",
        "N1 1AA",
        "GB",
    )
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))
    assert order.buyer_contact_shared is True


def test_a_buyer_email_etsy_does_not_share_is_marked_as_withheld(client, httpserver):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(
        {**receipt(), "buyer_email": None}
    )

    order = client.get_order("2345678901")

    assert order.buyer.email == ""
    assert order.buyer_contact_shared is False


def test_a_receipt_etsy_does_not_have_is_none(client, httpserver):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(
        {"error": "Receipt with id 2345678901 not found"}, status=404
    )

    assert client.get_order("2345678901") is None


@pytest.mark.parametrize("typed", ["KT-1001", "2345678901a", "", "#"])
def test_a_number_that_cannot_be_a_receipt_is_not_looked_up(client, httpserver, typed):
    assert client.get_order(typed) is None

    assert httpserver.log == []
    with pytest.raises(OrderNumberProblem, match="digits only"):
        order_number_read(typed)


def test_a_receipt_number_is_read_without_its_hash():
    assert order_number_read("#2345678901") == "2345678901"


# --- Listing --------------------------------------------------------------------------


def test_list_orders_pages_by_offset_from_min_created(client, httpserver, monkeypatch):
    monkeypatch.setattr("apps.platforms.etsy.PAGE_SIZE", 2)
    pages = {
        "0": receipts_body([receipt(1, created=JAN_5_10AM), receipt(2, created=JAN_5_10AM + 1)], count=3),
        "2": receipts_body([receipt(3, created=JAN_5_10AM + 2)], count=3),
    }
    seen = []

    def handler(request: Request) -> Response:
        seen.append(request.args.to_dict())
        return Response(json.dumps(pages[request.args["offset"]]), content_type="application/json")

    expect_receipts(httpserver).respond_with_handler(handler)

    orders = list(client.list_orders(datetime(2026, 1, 5, 10, 0, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1", "2", "3"]
    assert seen == [
        {
            "min_created": str(JAN_5_10AM),
            "limit": "2",
            "sort_on": "created",
            "sort_order": "asc",
            "offset": "0",
        },
        {
            "min_created": str(JAN_5_10AM),
            "limit": "2",
            "sort_on": "created",
            "sort_order": "asc",
            "offset": "2",
        },
    ]


def test_list_orders_stops_when_count_is_reached(client, httpserver, monkeypatch):
    monkeypatch.setattr("apps.platforms.etsy.PAGE_SIZE", 2)
    expect_receipts(httpserver).respond_with_json(receipts_body([receipt(1), receipt(2)], count=2))

    assert len(list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))) == 2
    assert len(api_requests(httpserver)) == 1


def test_a_shop_that_sends_the_same_page_again_stops_the_listing(client, httpserver, monkeypatch):
    monkeypatch.setattr("apps.platforms.etsy.PAGE_SIZE", 2)
    offsets = []

    def handler(request: Request) -> Response:
        offsets.append(request.args["offset"])
        if len(offsets) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        body = receipts_body([receipt(1), receipt(2)], count=1000)
        return Response(json.dumps(body), content_type="application/json")

    expect_receipts(httpserver).respond_with_handler(handler)

    with pytest.raises(PaginationStuck, match="same page"):
        list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert offsets == ["0", "2"]


def test_listing_stops_after_the_most_pages_we_ever_ask_for(client, httpserver, monkeypatch):
    monkeypatch.setattr("apps.platforms.etsy.PAGE_SIZE", 1)
    monkeypatch.setattr("apps.platforms.etsy.MAX_PAGES", 3)

    def handler(request: Request) -> Response:
        offset = int(request.args["offset"])
        body = receipts_body([receipt(1000 + offset)], count=10**9)  # new receipts forever
        return Response(json.dumps(body), content_type="application/json")

    expect_receipts(httpserver).respond_with_handler(handler)

    with pytest.raises(PaginationStuck, match="3 pages"):
        list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert len(api_requests(httpserver)) == 3


def test_a_receipt_in_an_unexpected_shape_is_listed_as_unreadable(client, httpserver):
    broken = {**receipt(2), "created_timestamp": "yesterday", "create_timestamp": None}
    expect_receipts(httpserver).respond_with_json(receipts_body([receipt(1), broken, receipt(3)]))

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1", "2", "3"]
    assert isinstance(orders[1], UnreadableOrder)
    assert "shape we did not expect" in orders[1].reason


# --- Rotating refresh tokens ------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_the_rotated_tokens_are_handed_over(
    connect, httpserver, kept
):
    client = connect(access_token_expires_at=time.time() - 10)
    expect_token(httpserver).respond_with_json(rotated())
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901", token=NEW_ACCESS_TOKEN).respond_with_json(receipt())

    client.get_order("2345678901")
    client.get_order("2345678901")

    form = parse_qs(token_requests(httpserver)[0].get_data(as_text=True))
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": [KEYSTRING],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert len(token_requests(httpserver)) == 1  # the new access token is used from then on
    assert len(kept) == 1
    assert kept[0]["refresh_token"] == NEW_REFRESH_TOKEN
    assert kept[0]["access_token"] == NEW_ACCESS_TOKEN
    expires_at = datetime.fromisoformat(kept[0]["access_token_expires_at"])
    assert expires_at.timestamp() == pytest.approx(time.time() + 3600, abs=5)


def test_the_next_refresh_uses_the_rotated_refresh_token(connect, httpserver, kept):
    client = connect(access_token_expires_at=0)
    expect_token(httpserver).respond_with_json(rotated())
    calls = []

    def handler(request: Request) -> Response:
        calls.append(True)
        if len(calls) == 2:  # Etsy revokes the access token early once
            return Response(
                json.dumps({"error": "invalid_token"}), status=401, content_type="application/json"
            )
        return Response(json.dumps(receipt()), content_type="application/json")

    expect_receipts(httpserver, f"{RECEIPTS}/2345678901", token=NEW_ACCESS_TOKEN).respond_with_handler(
        handler
    )

    client.get_order("2345678901")
    client.get_order("2345678901")

    refreshes = [parse_qs(request.get_data(as_text=True)) for request in token_requests(httpserver)]
    assert [form["refresh_token"] for form in refreshes] == [[REFRESH_TOKEN], [NEW_REFRESH_TOKEN]]
    assert len(kept) == 2


def test_a_401_on_a_token_that_looked_valid_refreshes_once_and_asks_again(client, httpserver, kept):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(
        {"error": "invalid_token", "error_description": "access token is expired"}, status=401
    )
    expect_token(httpserver).respond_with_json(rotated())
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901", token=NEW_ACCESS_TOKEN).respond_with_json(receipt())

    assert client.get_order("2345678901").number == "2345678901"
    assert [request.path for request, _ in httpserver.log] == [
        f"{RECEIPTS}/2345678901",
        TOKEN_PATH,
        f"{RECEIPTS}/2345678901",
    ]
    assert kept[0]["refresh_token"] == NEW_REFRESH_TOKEN


def test_a_401_right_after_a_refresh_is_not_authorized(connect, httpserver, caplog):
    caplog.set_level("DEBUG")
    client = connect(access_token_expires_at=0)
    expect_token(httpserver).respond_with_json(rotated())
    expect_receipts(httpserver, token=NEW_ACCESS_TOKEN).respond_with_json(
        {"error": "invalid_token"}, status=401
    )

    with pytest.raises(NotAuthorized, match="Reauthorize the plugin") as caught:
        client.check_authorization()

    assert len(token_requests(httpserver)) == 1
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, SHARED_SECRET):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_a_refresh_token_etsy_no_longer_accepts_is_not_authorized(connect, httpserver, kept):
    client = connect(access_token_expires_at=0)
    expect_token(httpserver).respond_with_json(
        {"error": "invalid_grant", "error_description": "Invalid refresh token"}, status=400
    )

    with pytest.raises(NotAuthorized, match="removed the app's access"):
        client.check_authorization()

    assert api_requests(httpserver) == []
    assert kept == []


def test_a_403_is_a_missing_scope_and_spends_no_refresh_token(client, httpserver, kept):
    expect_receipts(httpserver).respond_with_json({"error": "insufficient_scope"}, status=403)

    with pytest.raises(NotAuthorized, match="transactions_r"):
        client.check_authorization()

    assert token_requests(httpserver) == []
    assert kept == []


# --- Rate limits -------------------------------------------------------------------------


def test_429_with_retry_after_blocks_the_bucket(client, httpserver):
    expect_receipts(httpserver).respond_with_json(
        {"error": "Too many requests"}, status=429, headers={"retry-after": "30"}
    )

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == 30
    with pytest.raises(RateLimited):
        client.get_order("2345678901")
    assert len(httpserver.log) == 1


def test_429_without_a_retry_hint_waits_a_minute(client, httpserver):
    expect_receipts(httpserver).respond_with_json({"error": "Too many requests"}, status=429)

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == 60


def test_429_with_no_requests_left_today_waits_for_the_daily_window(client, httpserver):
    expect_receipts(httpserver).respond_with_json(
        {"error": "Too many requests"},
        status=429,
        headers={"x-limit-per-day": "10000", "x-remaining-today": "0", "x-remaining-this-second": "9"},
    )

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == DAILY_QUOTA_PAUSE


def test_the_last_request_of_the_day_holds_the_next_ones_off_without_asking_etsy(client, httpserver):
    expect_receipts(httpserver).respond_with_json(
        receipts_body([]), headers={"x-remaining-today": "0", "x-remaining-this-second": "4"}
    )

    client.check_authorization()  # this answer itself is fine

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()
    assert DAILY_QUOTA_PAUSE - 5 < caught.value.retry_after <= DAILY_QUOTA_PAUSE
    assert len(httpserver.log) == 1


def test_no_requests_left_this_second_waits_a_second_then_asks(client, httpserver):
    expect_receipts(httpserver).respond_with_json(
        receipts_body([]), headers={"x-remaining-today": "9000", "x-remaining-this-second": "0"}
    )

    client.check_authorization()
    started = time.monotonic()
    client.check_authorization()

    assert time.monotonic() - started >= 0.9
    assert len(httpserver.log) == 2


# --- Errors -------------------------------------------------------------------------------


def test_500_is_unavailable(client, httpserver):
    expect_receipts(httpserver).respond_with_json({"error": "Internal error"}, status=500)

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        client.check_authorization()


def test_slow_answer_past_the_read_timeout_is_unavailable(client, httpserver, slow_handler):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer within 0.3 seconds"):
        client.get_order("2345678901")


def test_malformed_json_is_unavailable(client, httpserver):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_data(
        '{"receipt_id": 2345678901, ', content_type="application/json"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order("2345678901")


def test_a_receipt_in_an_unexpected_shape_is_malformed(client, httpserver):
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json({**receipt(), "is_paid": "yes"})

    with pytest.raises(MalformedOrder, match="shape we did not expect"):
        client.get_order("2345678901")


def test_a_plugin_without_a_shop_is_not_authorized_without_calling_etsy(connect, httpserver):
    client = connect(shop_id="")

    with pytest.raises(NotAuthorized, match="which shop"):
        client.check_authorization()

    assert httpserver.log == []


# --- Any JSON at all: an order or the typed malformed error ------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=25,
)
receipt_keys = st.sampled_from(
    ["receipt_id", "created_timestamp", "create_timestamp", "is_paid", "status", "transactions", "grandtotal"]
)
receiptish = st.dictionaries(receipt_keys, json_values, max_size=7)


@settings(max_examples=300, deadline=None)
@given(raw=receiptish | json_values)
def test_the_parser_turns_any_json_into_an_order_or_the_typed_malformed_error(raw):
    try:
        parsed = source_order(raw)
    except MalformedOrder:
        return
    assert isinstance(parsed, SourceOrder)
    assert parsed.placed_at.tzinfo is not None


# --- The shop owner's authorization -----------------------------------------------------------


def test_the_pkce_challenge_is_s256_of_the_verifier():
    # RFC 7636, appendix B.
    assert etsy.code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    verifier, challenge = etsy.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == etsy.code_challenge(verifier)
    assert etsy.pkce_pair()[0] != verifier


def test_authorize_url_asks_for_reading_receipts_with_a_pkce_challenge():
    url = etsy.authorize_url(
        keystring=KEYSTRING,
        redirect_uri="https://help.example/etsy/callback",
        state="opaque-state",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    )

    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("www.etsy.com", "/oauth/connect")
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "redirect_uri": ["https://help.example/etsy/callback"],
        "scope": ["transactions_r"],
        "client_id": [KEYSTRING],
        "state": ["opaque-state"],
        "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
        "code_challenge_method": ["S256"],
    }


def test_the_code_is_traded_with_the_verifier_and_no_secret(httpserver, make_connection):
    expect_token(httpserver).respond_with_json(rotated())

    tokens = etsy.OAUTH.exchange_code(
        "the-code",
        keys=AppKeys(KEYSTRING),
        connection=make_connection({}),
        token_url=httpserver.url_for(TOKEN_PATH),
        redirect_uri="https://help.example/etsy/callback",
        extra={"code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
    )

    form = parse_qs(httpserver.log[0][0].get_data(as_text=True))
    assert form == {
        "grant_type": ["authorization_code"],
        "client_id": [KEYSTRING],
        "redirect_uri": ["https://help.example/etsy/callback"],
        "code": ["the-code"],
        "code_verifier": ["dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"],
    }
    assert "Authorization" not in httpserver.log[0][0].headers
    assert (tokens.refresh_token, tokens.access_token) == (NEW_REFRESH_TOKEN, NEW_ACCESS_TOKEN)
    assert etsy.user_of_token(tokens.access_token) == "12345678"


def test_shop_of_user_finds_the_shop_the_authorizing_owner_runs(httpserver, make_connection):
    httpserver.expect_request(
        "/v3/application/users/12345678/shops", headers={"Authorization": f"Bearer {NEW_ACCESS_TOKEN}"}
    ).respond_with_json({"shop_id": int(SHOP_ID), "shop_name": "KittyMugs", "user_id": 12345678})

    shop = etsy.shop_of_user(
        {"access_token": NEW_ACCESS_TOKEN, "user_id": "12345678"},
        keystring=KEYSTRING,
        shared_secret=SHARED_SECRET,
        connection=make_connection({}),
        base_url=httpserver.url_for("/"),
    )

    assert shop == {"shop_id": SHOP_ID, "shop_name": "KittyMugs"}


def test_an_account_without_a_shop_cannot_be_connected(httpserver, make_connection):
    httpserver.expect_request("/v3/application/users/12345678/shops").respond_with_json(
        {"error": "User with user_id 12345678 does not own a shop"}, status=404
    )

    with pytest.raises(NotAuthorized, match="has no shop"):
        etsy.shop_of_user(
            {"access_token": NEW_ACCESS_TOKEN, "user_id": "12345678"},
            keystring=KEYSTRING,
            shared_secret=SHARED_SECRET,
            connection=make_connection({}),
            base_url=httpserver.url_for("/"),
        )


def test_a_shop_that_is_gone_is_not_authorized(client, httpserver):
    expect_receipts(httpserver).respond_with_json({"error": "Shop not found"}, status=404)

    with pytest.raises(NotAuthorized, match="no shop with this plugin's shop id"):
        client.check_authorization()


# --- Every word, read whole ---------------------------------------------------------


def test_the_table_holds_every_receipt_status_and_both_is_paid_values():
    statuses = {
        "paid",
        "completed",
        "open",
        "payment processing",
        "canceled",
        "fully refunded",
        "partially refunded",
    }
    assert {e.word for e in etsy.STATUSES.in_field(etsy.STATUS)} == statuses
    assert {e.word for e in etsy.STATUSES.in_field(etsy.IS_PAID)} == {"true", "false"}


@pytest.mark.parametrize(**every_word(etsy.STATUSES))
def test_each_word_is_read_through_the_client_and_step_six_follows_its_outcome(client, httpserver, entry):
    if entry.field == etsy.IS_PAID:
        answer = receipt(status="open", is_paid=entry.word == "true")
    else:
        answer = receipt(status=entry.word, is_paid=True)
    expect_receipts(httpserver, f"{RECEIPTS}/2345678901").respond_with_json(answer)

    assert_step_six_follows(entry, client.get_order("2345678901"))
