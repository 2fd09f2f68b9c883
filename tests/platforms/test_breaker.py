"""A store that keeps timing out is left alone for a moment, and only that store.

Against a real local server that holds every request (threaded, so each
request reaches it while the earlier ones still wait), through a real
platform client, with the breaker in this process and in Redis.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.platforms import breaker
from apps.platforms.base import PlatformSlow, PlatformUnavailable
from apps.platforms.breaker import breaker_for
from apps.platforms.woocommerce import WooCommerceClient
from tests.conftest import redis_url_for_tests, wait_for
from tests.platforms.test_woocommerce import KEY, ORDERS, SECRET


class HangingStore:
    """A WooCommerce store that holds each request 5 s (``release()`` answers at once from then on)."""

    def __init__(self):
        self.arrived = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(ORDERS).respond_with_handler(self._answer)
        self.server.start()

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.arrived += 1
        self._released.wait(5.0)
        return Response("[]", content_type="application/json")

    def release(self) -> None:
        self._released.set()

    def hang(self) -> None:
        """Hold every request again."""
        self._released.clear()

    def stop(self) -> None:
        self.release()
        self.server.clear()
        self.server.stop()


@pytest.fixture
def store():
    store = HangingStore()
    yield store
    store.stop()


@pytest.fixture
def short_pause(monkeypatch):
    # Long enough for the next line of a test to meet the pause on a busy machine.
    monkeypatch.setattr(breaker, "PAUSE", 2.0)
    return 2.0


def woocommerce(store: HangingStore, connection) -> WooCommerceClient:
    connection.credentials.update(
        site_url=store.server.url_for("/").rstrip("/"), consumer_key=KEY, consumer_secret=SECRET
    )
    return WooCommerceClient(connection)


def time_out(client: WooCommerceClient, times: int = breaker.STRIKES) -> None:
    """Ask the hanging store ``times`` times: each call waits out the read timeout (the store is asked)."""
    for _ in range(times):
        with pytest.raises(PlatformUnavailable) as caught:
            client.get_order("1001")
        assert not isinstance(caught.value, PlatformSlow)
        assert "did not answer within 0.3 seconds" in str(caught.value)


def test_a_store_that_keeps_timing_out_is_left_alone_then_asked_again(
    backend, store, make_connection, short_pause
):
    client = woocommerce(store, make_connection({}, read=0.3))

    time_out(client)
    wait_for(lambda: store.arrived == breaker.STRIKES)

    with pytest.raises(PlatformSlow) as caught:
        client.get_order("1001")
    assert str(caught.value).startswith("WooCommerce timed out on our last requests, so we are not asking it")
    assert 0 < caught.value.retry_after <= short_pause
    time.sleep(0.1)
    assert store.arrived == breaker.STRIKES  # the store was not asked: nothing waited on it

    # After the pause the store is asked again; answering, it is asked every time.
    wait_for(lambda: breaker_for(client.connection.bucket).paused_for() is None)
    store.release()
    assert client.get_order("1001") is None
    assert client.get_order("1002") is None
    assert store.arrived == breaker.STRIKES + 2


def test_one_more_timeout_after_the_pause_leaves_the_store_alone_again(
    backend, store, make_connection, short_pause
):
    client = woocommerce(store, make_connection({}, read=0.3))
    time_out(client)
    wait_for(lambda: breaker_for(client.connection.bucket).paused_for() is None)

    time_out(client, 1)  # asked again: still hanging
    with pytest.raises(PlatformSlow):  # the strikes of the window still count: paused at once
        client.get_order("1001")


def test_an_answer_in_time_clears_the_stores_timeouts(backend, store, make_connection):
    client = woocommerce(store, make_connection({}, read=0.3))
    time_out(client, breaker.STRIKES - 1)
    store.release()
    assert client.get_order("1001") is None
    store.hang()

    time_out(client, breaker.STRIKES)  # as many again as pause it: the ones before the answer no longer count
    with pytest.raises(PlatformSlow):
        client.get_order("1001")


def test_another_plugin_on_the_same_store_is_still_asked(backend, store, make_connection, bucket):
    slow = woocommerce(store, make_connection({}, read=0.3))
    time_out(slow)
    with pytest.raises(PlatformSlow):
        slow.get_order("1001")

    time_out(woocommerce(store, replace(make_connection({}, read=0.3), bucket=f"{bucket}:other")), 1)
    wait_for(lambda: store.arrived == breaker.STRIKES + 1)


def test_fewer_timeouts_than_the_strikes_leave_the_store_asked(backend, store, make_connection):
    client = woocommerce(store, make_connection({}, read=0.3))
    time_out(client, breaker.STRIKES - 1)
    store.release()

    assert client.get_order("1001") is None


def test_with_redis_unreachable_the_breaker_holds_in_this_process(settings, store, make_connection):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client = woocommerce(store, make_connection({}, read=0.3))
    time_out(client)

    with pytest.raises(PlatformSlow):
        client.get_order("1001")


def test_a_connection_not_tied_to_a_saved_plugin_has_no_breaker(backend):
    unsaved = breaker_for("plugin:None")
    for _ in range(breaker.STRIKES + 1):
        unsaved.strike()

    assert unsaved.paused_for() is None


def test_the_breakers_keys_carry_the_cache_key_prefix(settings, bucket):
    import redis

    settings.REDIS_URL = redis_url_for_tests()
    settings.CACHE_KEY_PREFIX = "kt-prefix-test"
    for _ in range(breaker.STRIKES):
        breaker_for(bucket).strike()

    keys = sorted(k.decode() for k in redis.Redis.from_url(settings.REDIS_URL).keys(f"*{bucket}*"))
    assert keys == [
        f"kt-prefix-test:throttle:{{{bucket}}}:paused",
        f"kt-prefix-test:throttle:{{{bucket}}}:strikes",
    ]


def test_a_paused_store_is_named_in_the_log_without_what_was_asked(backend, store, make_connection, caplog):
    client = woocommerce(store, make_connection({}, read=0.3))
    time_out(client)
    caplog.clear()
    with caplog.at_level("INFO", logger="apps.platforms"), pytest.raises(PlatformSlow):
        client.get_order("10017")

    assert "not sent: the store is paused for" in caplog.text
    assert client.connection.bucket in caplog.text
    assert "10017" not in caplog.text
