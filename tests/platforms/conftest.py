"""Fixtures for the platform clients: connections with their own buckets, servers, stores."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from werkzeug import Request, Response

from apps.platforms.base import Connection
from tests.conftest import platform_memory_forget, redis_url_for_tests

# A short read timeout so "the platform is too slow" tests (those with ``slow_handler``) stay fast;
# every other test waits as long as a busy machine may take to serve the local platform's answer.
TEST_READ_TIMEOUT = 0.3
PATIENT_READ_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def _fresh_local_buckets() -> Iterator[None]:
    platform_memory_forget()
    yield
    platform_memory_forget()


@pytest.fixture(params=["in-process", "redis"])
def backend(request, settings) -> str:
    """Run a test against both kinds of bucket (and breaker)."""
    if request.param == "redis":
        settings.REDIS_URL = redis_url_for_tests()
    else:
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def bucket() -> str:
    """A bucket no other test shares, so Redis state never leaks between tests."""
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
def make_connection(bucket: str, request) -> Callable[..., Connection]:
    slow = "slow_handler" in request.fixturenames
    default_read = TEST_READ_TIMEOUT if slow else PATIENT_READ_TIMEOUT

    def make(credentials: dict, *, read: float = default_read, connect: float = 1.0):
        return Connection(
            bucket=bucket, credentials=credentials, timeout=httpx.Timeout(read, connect=connect)
        )

    return make


@pytest.fixture
def refused_url() -> str:
    """A local address where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def slow_handler() -> Iterator[Callable[[Request], Response]]:
    """A handler that answers only after 5 s (well past ``TEST_READ_TIMEOUT``, however busy the
    machine), released early when the test ends.

    pytest-httpserver serves one request at a time, so a handler left sleeping
    would delay the next test.
    """
    release = threading.Event()

    def handler(request: Request) -> Response:
        release.wait(5.0)
        return Response("{}", content_type="application/json")

    yield handler
    release.set()
    time.sleep(0.05)  # let the server finish writing to the closed socket
