"""Serving the MCP SDK's streamable-HTTP app (ASGI) from Django's WSGI views.

The site runs under WSGI (gunicorn's sync or gthread workers, ``runserver``);
the SDK serves MCP as an ASGI app. Rather than a second server process, each
web process runs the SDK on one event loop of its own, in a background
thread started on first use: the session manager's ``run()`` is entered once
there, as an ASGI server's lifespan would, and every /mcp/ request is handed
to it with ``asyncio.run_coroutine_threadsafe``. The manager is stateless and
answers in JSON: each POST is a whole exchange, so nothing outlives a request
and any process behind the proxy can answer any request.

The tools' database work does not run on the event loop (Django refuses ORM
calls there) nor on a pool of threads of its own: it is handed back to the
Django thread serving the request, which waits for the answer anyway
(``RequestThread``). So an MCP request uses one thread and one database
connection, the request's own, with Django's usual handling of both
(``CONN_MAX_AGE``, health checks, closing at the end of the request), and as
many MCP requests run at once as the server has threads, like any view.
(asgiref's ``async_to_sync`` plus thread-sensitive ``sync_to_async`` does the
same, but starts an event loop per call, where the SDK's manager lives on one.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

SCOPE_KEY = "kitty_troubleshoot.mcp"


class RequestEnded(Exception):
    """The request a tool worked for has been answered or given up; its work is not done."""


class RequestThread:
    """Runs functions for the event loop on the Django thread that serves one request.

    The Django thread calls ``serve_until(future)``: while the answer is not
    ready, it runs what the tools hand it with ``await run(fn, ...)``.
    """

    _DONE = object()

    def __init__(self) -> None:
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False

    async def run(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` run on the request's Django thread; its result or its exception."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RequestEnded()
            self._work.put((future, fn, args, kwargs))
        return await asyncio.wrap_future(future)

    def serve_until(self, answer: concurrent.futures.Future, *, timeout: float) -> Any:
        """Run the work handed over until ``answer`` is ready; its result (TimeoutError after ``timeout``)."""
        answer.add_done_callback(lambda _: self._work.put(self._DONE))
        deadline = time.monotonic() + timeout
        try:
            while not answer.done():
                try:
                    item = self._work.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    answer.cancel()
                    raise TimeoutError from None
                if item is self._DONE:
                    break
                future, fn, args, kwargs = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except Exception as exc:  # handed to the tool that asked, which decides
                        future.set_exception(exc)
                    except BaseException:  # the worker is being stopped: the tool hears the request ended
                        future.set_exception(RequestEnded())
                        raise
            return answer.result(timeout=0)
        finally:
            self._close()

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not self._DONE:
                    item[0].set_exception(RequestEnded())


@dataclass
class AsgiAnswer:
    """The response the ASGI app sent, gathered whole (JSON mode sends one body)."""

    status: int = 500
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


async def asgi_call(app, scope: dict, body: bytes) -> AsgiAnswer:
    """Call the ASGI ``app`` with one request (``body`` already read) and gather its response."""
    answer = AsgiAnswer()
    answered = asyncio.Event()
    sent_body = False

    async def receive() -> dict:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        # The client is still there for as long as the app is answering.
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = [
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            answer.body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    try:
        await app(scope, receive, send)
    finally:
        answered.set()
    return answer


class LoopThread:
    """One event loop per process, in a daemon thread, with an ASGI app's lifespan entered on it.

    ``start_app`` is called on the loop and returns (an async context manager
    to hold open, the ASGI app to call). Started on first use, and again in a
    forked child (a thread does not survive ``fork``) or if the loop stopped.
    """

    def __init__(self, start_app: Callable[[], tuple[Any, Any]], *, name: str) -> None:
        self._start_app = start_app
        self._name = name
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app = None

    def call(self, scope: dict, body: bytes) -> concurrent.futures.Future:
        """Hand one request to the app; a future of its ``AsgiAnswer``."""
        loop, app = self._running()
        return asyncio.run_coroutine_threadsafe(asgi_call(app, scope, body), loop)

    def _running(self):
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()
            if not alive:
                self._start()
            return self._loop, self._app

    def _start(self) -> None:
        ready = threading.Event()
        started: dict[str, Any] = {}

        async def hold() -> None:
            lifespan, app = self._start_app()
            async with lifespan:
                started["loop"], started["app"] = asyncio.get_running_loop(), app
                ready.set()
                await asyncio.Event().wait()  # for as long as the process lives

        def main() -> None:
            try:
                asyncio.run(hold())
            except BaseException as exc:
                started["error"] = exc
                logger.exception("the MCP event loop stopped")
            finally:
                ready.set()

        thread = threading.Thread(target=main, name=self._name, daemon=True)
        thread.start()
        if not ready.wait(timeout=30) or "error" in started:
            raise RuntimeError("the MCP event loop did not start") from started.get("error")
        self._thread, self._pid = thread, os.getpid()
        self._loop, self._app = started["loop"], started["app"]


def asgi_scope(request, *, extra: dict) -> dict:
    """The ASGI HTTP scope of a Django ``request``, with ``extra`` keys for the app's handlers to read."""
    headers = []
    for key, value in request.META.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if value:
            headers.append((name.replace("_", "-").lower().encode("latin-1"), str(value).encode("latin-1")))
    server_port = request.META.get("SERVER_PORT") or "80"
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.path.encode("utf-8"),
        "query_string": request.META.get("QUERY_STRING", "").encode("latin-1"),
        "root_path": "",
        "headers": headers,
        "client": (request.META.get("REMOTE_ADDR", ""), 0),
        "server": (request.META.get("SERVER_NAME", ""), int(server_port) if server_port.isdigit() else 80),
        **extra,
    }
