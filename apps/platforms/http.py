"""The one seam between platform clients and the network.

Every HTTP call to a platform goes through ``PlatformHTTP.request_json``: it
asks the store's breaker whether it is answering, takes a token from the
plugin's throttle, sends the request with the connection's explicit
timeouts, sits out a short "slow down" and asks again, and turns
everything else that can go wrong into the typed errors of ``base.py`` with
a message a merchant can read. Tests point clients at a local HTTP server;
nothing here is mocked.

Messages and log lines are built from our own words plus status codes and
paths: never from headers, credentials or raw exception text, so a token can
not leak into a notification, a check transcript or a log.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import httpx

from apps.platforms.base import (
    Connection,
    NotAuthorized,
    PlatformSlow,
    PlatformUnavailable,
    RateLimited,
)
from apps.platforms.breaker import breaker_for
from apps.platforms.throttle import Throttle
from kitty_troubleshoot.logfilters import path_for_log
from kitty_troubleshoot.said import Said, said, said_n
from kitty_troubleshoot.waits import about_to_wait

logger = logging.getLogger(__name__)

# When a 429 carries no usable Retry-After we still have to back off; a
# minute is what most hosts' rate-limit windows amount to.
DEFAULT_RETRY_AFTER = 60.0
# A buggy or hostile Retry-After must not park a plugin for days.
MAX_RETRY_AFTER = 3600.0

# A "slow down" that ends within the caller's max_wait is sat out and the
# request sent again, at most this many times: a pause of a second must not
# fail a whole sync and tell the merchant they are rate limited.
MAX_THROTTLE_RETRIES = 3

USER_AGENT = "CommerceKitty-Troubleshoot/1.0"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced, for platform-supplied text we pass on."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


@dataclass(frozen=True)
class JSONResponse:
    """A successful (2xx) answer with its body already parsed."""

    data: Any
    status_code: int
    headers: httpx.Headers


# A platform may compute the wait after a 429 from the body (Shopify's
# throttleStatus); returning None falls back to the Retry-After header.
RetryAfterHook = Callable[[httpx.Response], float | None]
# A platform that reports throttling inside a 2xx body (Shopify GraphQL's
# THROTTLED) says how long to wait from the parsed body; None: not throttled.
ThrottledBodyHook = Callable[[Any], float | None]


@cache
def _ssl_context():
    """One TLS context for every platform client, made as httpx makes its default.

    Building one loads the certificate bundle: about 18 ms of CPU, which each
    new client paid again (a check asks the platform with a client of its own,
    some clients make one per request).
    """
    return httpx.create_ssl_context()


class PlatformHTTP:
    """An httpx client for one connection, with throttling and error mapping.

    Use it as a context manager so the underlying connection pool is closed:
    ``with PlatformHTTP(...) as http: http.request_json("GET", "/orders")``.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        label: str,
        base_url: str,
        throttle: Throttle,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        unauthorized_message: Said | None = None,
        forbidden_message: Said | None = None,
        retry_after_hook: RetryAfterHook | None = None,
        throttled_body_hook: ThrottledBodyHook | None = None,
        secrets: Iterable[str] = (),
    ):
        self.connection = connection
        self.label = label
        self.throttle = throttle
        self.unauthorized_message = unauthorized_message or said(
            "%(platform)s rejected the plugin's credentials. Reauthorize the plugin.", platform=label
        )
        self.forbidden_message = forbidden_message or said(
            "%(platform)s refused access: the credentials lack a permission we need. "
            "Reauthorize the plugin and grant every permission it asks for.",
            platform=label,
        )
        self.retry_after_hook = retry_after_hook
        self.throttled_body_hook = throttled_body_hook
        self.secrets = tuple(s for s in secrets if s)
        self.breaker = breaker_for(connection.bucket)
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
            auth=auth,
            timeout=connection.timeout,
            # A redirect usually means a wrong store address; following it
            # could carry credentials somewhere unexpected.
            follow_redirects=False,
            verify=_ssl_context(),
        )

    def __enter__(self) -> PlatformHTTP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        cost: float = 1,
        max_wait: float = 2.0,
        accept_statuses: Collection[int] = (),
    ) -> JSONResponse:
        """Send one request through the throttle and return its parsed JSON body.

        ``data`` sends a form-encoded body, as OAuth 2 token endpoints expect.
        ``max_wait`` is the longest this call may wait on throttling, ours and
        the platform's together. A platform's "slow down" (429, a 503 with
        Retry-After, a throttled body) that ends within it blocks the bucket,
        so every process sharing it holds off too, and the request is sent
        again once the block ends, up to MAX_THROTTLE_RETRIES times.

        A status in ``accept_statuses`` returns like a success (its body
        parsed, or None when it is not JSON) rather than raising: for an
        address naming one record a 404 means there is none, and a token
        endpoint's 400 says why it refused. A 204 (No Content) returns
        ``data`` None. ``data`` sends a form body instead of ``json``.

        Raises ``RateLimited`` (our throttle, or the platform's when its wait
        is longer, after blocking the bucket), ``NotAuthorized`` (401/403),
        ``PlatformSlow`` at once while the store's breaker pauses it (it timed
        out again and again just now) or ``PlatformUnavailable`` (timeouts,
        connection errors, 5xx, anything else unexpected, malformed JSON).
        """
        paused = self.breaker.paused_for()
        if paused is not None:
            logger.info(
                "%s %s %s not sent: the store is paused for %.0f s more (bucket %s)",
                self.label,
                method,
                path_for_log(path),
                paused,
                self.connection.bucket,
            )
            raise PlatformSlow(
                said(
                    "%(platform)s timed out on our last requests, so we are not asking it again for %(wait)s.",
                    platform=self.label,
                    wait=_human_seconds(math.ceil(paused)),  # a countdown: 29.4 s left is "30 seconds"
                ),
                retry_after=paused,
            )
        about_to_wait()  # e.g. a check task writes the results it holds before this call may hang
        deadline = time.monotonic() + max_wait
        retries = 0
        while True:
            self.throttle.acquire(cost, max_wait=max(0.0, deadline - time.monotonic()))
            response = self._send(method, path, params=params, json=json, data=data)
            wait = self._platform_wait(response)
            if wait is None:
                if response.status_code in accept_statuses:
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    return JSONResponse(data=body, status_code=response.status_code, headers=response.headers)
                self._raise_for_status(response)
                data = self._parse(response)
                wait = self.throttled_body_hook(data) if self.throttled_body_hook else None
                if wait is None:
                    return JSONResponse(data=data, status_code=response.status_code, headers=response.headers)
            if retries >= MAX_THROTTLE_RETRIES or time.monotonic() + wait > deadline:
                if response.status_code == 503:
                    self._raise_for_status(response)
                raise self.rate_limited(wait)
            retries += 1
            # Blocking (rather than sleeping here) holds every process sharing
            # the bucket off; the next acquire sits the block out.
            self.throttle.block_for(wait)
            logger.info(
                "%s %s %s: asked to wait %.1f s, then asking again (bucket %s)",
                self.label,
                method,
                path_for_log(path),
                wait,
                self.throttle.bucket,
            )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None,
        json: Any,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._client.request(method, path, params=params, json=json, data=data)
        except httpx.ConnectTimeout as exc:
            self._log(method, path, "connect timeout", started)
            self.breaker.strike()
            limit = self._limit("connect")
            if limit is None:
                raise PlatformUnavailable(
                    said(
                        "Could not connect to %(platform)s within the time limit. "
                        "This is usually temporary; we will try again.",
                        platform=self.label,
                    )
                ) from exc
            raise PlatformUnavailable(
                said(
                    "Could not connect to %(platform)s within %(time)s. "
                    "This is usually temporary; we will try again.",
                    platform=self.label,
                    time=limit,
                )
            ) from exc
        except httpx.TimeoutException as exc:
            self._log(method, path, "timeout", started)
            self.breaker.strike()
            limit = self._limit("read")
            if limit is None:
                raise PlatformUnavailable(
                    said(
                        "%(platform)s did not answer within the time limit. "
                        "This is usually temporary; we will try again.",
                        platform=self.label,
                    )
                ) from exc
            raise PlatformUnavailable(
                said(
                    "%(platform)s did not answer within %(time)s. This is usually temporary; we will try again.",
                    platform=self.label,
                    time=limit,
                )
            ) from exc
        except httpx.ConnectError as exc:
            self._log(method, path, "connection failed", started)
            raise PlatformUnavailable(
                said(
                    "Could not connect to %(platform)s: the store did not accept the connection. "
                    "It may be down, or the store address may be wrong.",
                    platform=self.label,
                )
            ) from exc
        except httpx.TransportError as exc:
            self._log(method, path, "transport error", started)
            raise PlatformUnavailable(
                said(
                    "The connection to %(platform)s broke off before it answered. "
                    "This is usually temporary; we will try again.",
                    platform=self.label,
                )
            ) from exc
        self._log(method, path, str(response.status_code), started)
        self.breaker.answered()  # in time, whatever it said
        return response

    def _platform_wait(self, response: httpx.Response) -> float | None:
        """Seconds the platform asked us to wait (429, or 503 with Retry-After), or None."""
        if response.status_code == 429:
            retry_after = self.retry_after_hook(response) if self.retry_after_hook else None
            if retry_after is None:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return DEFAULT_RETRY_AFTER if retry_after is None else retry_after
        if response.status_code == 503:
            # Hosts and firewalls answer "busy, come back in n seconds" this way.
            return parse_retry_after(response.headers.get("Retry-After"))
        return None

    def rate_limited(self, retry_after: float, *, reason: Said | None = None) -> RateLimited:
        """Block the bucket for ``retry_after`` seconds and build the error to raise."""
        self.throttle.block_for(retry_after)
        logger.info("%s: bucket %s blocked for %.1f s", self.label, self.throttle.bucket, retry_after)
        return RateLimited(
            reason
            or said(
                "%(platform)s is limiting how fast we may ask; we will wait %(wait)s before asking again.",
                platform=self.label,
                wait=_human_seconds(retry_after),
            ),
            retry_after=retry_after,
        )

    def _raise_for_status(self, response: httpx.Response) -> None:
        code = response.status_code
        if 200 <= code < 300:
            return
        # 429 never gets here: request_json waits it out or raises RateLimited.
        if code == 401:
            raise NotAuthorized(self.unauthorized_message)
        if code == 403:
            raise NotAuthorized(self.forbidden_message)
        if code >= 500:
            raise PlatformUnavailable(
                said(
                    "%(platform)s answered with a server error (HTTP %(code)s). "
                    "This is usually temporary; we will try again.",
                    platform=self.label,
                    code=code,
                )
            )
        if 300 <= code < 400:
            raise PlatformUnavailable(
                said(
                    "%(platform)s sent us to another address (HTTP %(code)s). "
                    "Check the store address in the plugin settings.",
                    platform=self.label,
                    code=code,
                )
            )
        if code == 404:
            raise PlatformUnavailable(
                said(
                    "%(platform)s answered 'not found' (HTTP 404) where its API should be. "
                    "Check the store address in the plugin settings.",
                    platform=self.label,
                )
            )
        raise PlatformUnavailable(
            said("%(platform)s refused the request (HTTP %(code)s).", platform=self.label, code=code)
        )

    def _parse(self, response: httpx.Response) -> Any:
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
            raise PlatformUnavailable(
                said(
                    "%(platform)s sent an answer we could not read (not valid JSON). "
                    "This is usually temporary; we will try again.",
                    platform=self.label,
                )
            ) from None

    def _limit(self, which: str) -> Said | None:
        """The connection's time limit for ``which`` as people say it; None when it has none."""
        value = getattr(self.connection.timeout, which, None)
        return None if value is None else _human_seconds(value)

    def _log(self, method: str, path: str, outcome: str, started: float) -> None:
        # The path only, its identifiers left out: query strings may carry a
        # merchant's search input, paths their order numbers and shop ids, and
        # headers carry credentials.
        logger.info(
            "%s %s %s -> %s in %.0f ms (bucket %s)",
            self.label,
            method,
            path_for_log(path),
            outcome,
            (time.monotonic() - started) * 1000,
            self.throttle.bucket,
        )


def _human_seconds(seconds: float) -> Said:
    """A wait or a time limit as people say it: "0.3 seconds", "45 seconds", "2 minutes"."""
    if seconds < 10:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        # The form follows the number as written; gettext's plural rules take whole numbers.
        count = 1 if text == "1" else 2 if "." in text else int(text)
        return said_n("%(seconds)s second", "%(seconds)s seconds", count, seconds=text)
    if seconds < 120:
        return said_n("%(count)s second", "%(count)s seconds", round(seconds))
    return said_n("%(count)s minute", "%(count)s minutes", round(seconds / 60))
