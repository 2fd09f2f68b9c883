"""OAuth 2 token endpoints (RFC 6749), as the platforms that issue short-lived access tokens run them.

``token_request`` posts one grant (an authorization code, a refresh token)
through ``PlatformHTTP``, so the call has the connection's timeouts, a
throttle and path-only logging like every other platform call. The
endpoint's own refusals (``invalid_grant``: the code or refresh token is no
longer valid; ``invalid_client``: the app's keys are wrong) become
``NotAuthorized`` rather than a generic "refused the request".

``AccessTokenCache`` keeps access tokens in this process until shortly
before they expire, keyed by a hash of the grant that produced them, so a
token is never looked up by (or logged as) its secret.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from apps.platforms.base import Connection, NotAuthorized, PlatformUnavailable
from apps.platforms.http import PlatformHTTP
from apps.platforms.throttle import throttle_for

# Token endpoints are asked rarely (once an hour per plugin at most); this
# only stops a bug from hammering one.
TOKEN_RATE_PER_SECOND = 1.0
TOKEN_BURST = 5

# An access token is replaced this long before it expires, so a request sent
# with it never arrives just after the expiry.
EXPIRY_MARGIN = 120.0

_GRANT_REFUSED = {"invalid_grant", "unauthorized_client"}
_CLIENT_REFUSED = {"invalid_client"}


@dataclass(frozen=True)
class TokenAnswer:
    """What a token endpoint granted."""

    access_token: str
    expires_in: float
    refresh_token: str = ""  # empty when the endpoint did not issue a new one

    def __repr__(self) -> str:  # never show a token in a traceback
        return f"TokenAnswer(expires_in={self.expires_in})"


class _TokenEndpointHTTP(PlatformHTTP):
    """PlatformHTTP reading RFC 6749 §5.2 error answers before the generic status mapping."""

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code in (400, 401):
            try:
                body = response.json()
            except ValueError:
                body = None
            error = body.get("error") if isinstance(body, dict) else None
            if error in _GRANT_REFUSED:
                raise NotAuthorized(self.unauthorized_message)
            if error in _CLIENT_REFUSED or response.status_code == 401:
                raise NotAuthorized(
                    f"{self.label} did not accept Commerce Kitty's app keys. "
                    "This is a configuration fault on our side; contact support."
                )
        super()._raise_for_status(response)


def token_request(
    token_url: str,
    form: dict[str, str],
    *,
    connection: Connection,
    label: str,
    refused_message: str,
    headers: dict[str, str] | None = None,
) -> TokenAnswer:
    """POST one grant to ``token_url`` and return the tokens it issued.

    Raises NotAuthorized when the endpoint refuses the grant (with
    ``refused_message``) or the app's keys, RateLimited / PlatformUnavailable
    as any platform call does.
    """
    parts = urlsplit(token_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    secrets = [value for key, value in form.items() if key != "grant_type"]
    with _TokenEndpointHTTP(
        connection,
        label=label,
        base_url=origin,
        throttle=throttle_for(f"{connection.bucket}:token", rate=TOKEN_RATE_PER_SECOND, burst=TOKEN_BURST),
        headers=headers,
        unauthorized_message=refused_message,
        secrets=secrets,
    ) as http:
        answer = http.request_json("POST", parts.path or "/", data=form).data
    return _token_answer(answer, label)


def _token_answer(answer: Any, label: str) -> TokenAnswer:
    if not isinstance(answer, dict):
        raise PlatformUnavailable(f"{label} sent a token answer we could not read.")
    access_token = answer.get("access_token")
    refresh_token = answer.get("refresh_token")
    expires_in = answer.get("expires_in")
    if not isinstance(access_token, str) or not access_token:
        raise PlatformUnavailable(f"{label} sent a token answer without an access token.")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or expires_in != expires_in:
        expires_in = 3600  # what every platform here issues; the answer just did not say
    return TokenAnswer(
        access_token=access_token,
        expires_in=max(0.0, float(expires_in)),
        refresh_token=refresh_token if isinstance(refresh_token, str) else "",
    )


def grant_key(*parts: str) -> str:
    """A cache key for the grant made of ``parts`` (endpoint, client id, refresh token): a hash, never the secret."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class AccessTokenCache:
    """Access tokens of this process, each until EXPIRY_MARGIN seconds before it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            token, good_until = entry
            if time.monotonic() >= good_until:
                del self._tokens[key]
                return None
            return token

    def put(self, key: str, token: str, expires_in: float) -> None:
        with self._lock:
            self._tokens[key] = (token, time.monotonic() + expires_in - EXPIRY_MARGIN)

    def forget(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
