"""The one OAuth 2 token client (RFC 6749) every platform that grants tokens uses.

A platform declares what its token endpoint wants and answers as an
``OAuth2Provider`` in its own module: where the endpoint lives, whether the
request is a form or JSON, how the app proves who it is (HTTP Basic, the
body, or its client id alone with PKCE), the scopes, how long an access token
lives by the docs, whether there is a refresh grant at all, and the words a
merchant reads when the platform says no. Everything else is here, once:

- ``exchange_code`` trades an authorization code for ``Tokens`` (an
  authorization flow's ``finish``), ``refresh`` a refresh token;
- the endpoint's answers become the typed errors of ``base.py``: a grant it
  refuses (``invalid_grant`` and the rest of RFC 6749 §5.2) is
  ``NotAuthorized`` in the provider's words, keys it refuses
  (``invalid_client``) are ``NotAuthorized`` that says the fault is ours; a
  429 is ``RateLimited`` for as long as its Retry-After says; 5xx, timeouts
  and answers we cannot read (not JSON, no access token) are
  ``PlatformUnavailable``. The call goes through ``PlatformHTTP``, so it has
  the connection's explicit timeouts, a throttle and path-only logging;
- ``AccessToken`` gives a client call a live access token: the stored one
  until ``REFRESH_MARGIN`` before it expires, else a refreshed one, which is
  kept in the connection's credentials and handed to
  ``Connection.credentials_renewed`` (the plugin stores it encrypted); and
  once more if the platform turns down a token that was not just issued.

Tokens are secrets: they are never part of a message, a log line or a repr.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from apps.platforms.base import Connection, NotAuthorized, PlatformUnavailable, RateLimited
from apps.platforms.http import PlatformHTTP
from apps.platforms.throttle import throttle_for
from kitty_troubleshoot.said import Said, said

logger = logging.getLogger(__name__)

# An access token is renewed when it has less than this left. Five minutes:
# it covers a request that starts just before the expiry and is answered
# after it (our read timeouts are seconds), and clocks that disagree by a
# minute or two between our hosts and the platform's; Shopify's and eBay's
# docs both ask for a refresh "a few minutes" before the expiry. Against the
# shortest lifetime we hold (an hour: Amazon, Etsy) it gives up a twelfth of
# each token, and a token is refreshed at most once per client call.
REFRESH_MARGIN = timedelta(minutes=5)

# Token endpoints are asked rarely (an hour per plugin at most); this only
# stops a bug from hammering one. Their bucket is not the API's.
TOKEN_RATE_PER_SECOND = 1.0
TOKEN_BURST = 5

T = TypeVar("T")


class Encoding(enum.StrEnum):
    FORM = "form"  # application/x-www-form-urlencoded, as RFC 6749 has it
    JSON = "json"


class ClientAuth(enum.StrEnum):
    """How the app proves who it is to the token endpoint (RFC 6749 §2.3)."""

    BASIC = "basic"  # HTTP Basic client_id:client_secret
    BODY = "body"  # client_id and client_secret in the request body
    PUBLIC = "public"  # client_id in the body and no secret: a public client proving itself with PKCE


@dataclass(frozen=True)
class AppKeys:
    """Commerce Kitty's app credentials at one platform."""

    client_id: str
    client_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class Tokens:
    """What a token endpoint granted."""

    access_token: str = field(repr=False)
    refresh_token: str = field(default="", repr=False)  # empty when the answer carried none
    expires_at: datetime | None = None  # None: the access token does not expire

    def credentials(self) -> dict[str, str]:
        """The credential fields to keep with the plugin: the access token, its expiry, a refresh token."""
        kept = {"access_token": self.access_token}
        if self.expires_at is not None:
            kept["access_token_expires_at"] = self.expires_at.isoformat()
        if self.refresh_token:
            kept["refresh_token"] = self.refresh_token
        return kept


@dataclass(frozen=True)
class OAuth2Provider:
    """One platform's token endpoint, as its documentation describes it."""

    label: str
    token_url: str  # the documented endpoint; "" where it lives on each store's own address
    encoding: Encoding
    client_auth: ClientAuth
    # How long an access token lives when the answer does not say (``expires_in``); None: it does not expire.
    lifetime: timedelta | None
    # The platform has a refresh grant: the code exchange must bring a refresh token, which renews access tokens.
    refreshes: bool
    # Messages (``said``), as a merchant reads them:
    code_refused: Said  # the endpoint would not take the authorization code
    refresh_refused: Said | str = ""  # the endpoint would not take the refresh token
    not_connected: Said | str = ""  # the plugin holds no access token and none can be had
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    scope_on_refresh: bool = False  # the refresh grant names the scopes again (eBay)
    # Shopify's code exchange is the one that carries no grant_type.
    names_code_grant: bool = True

    @property
    def scope(self) -> str:
        """The scopes as the platform's authorize address and token endpoint take them."""
        return self.scope_separator.join(self.scopes)

    def exchange_code(
        self,
        code: str,
        *,
        keys: AppKeys,
        connection: Connection,
        token_url: str = "",
        redirect_uri: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Tokens:
        """Trade an authorization code for tokens (``redirect_uri`` and ``extra`` as the platform wants them).

        Raises NotAuthorized (in ``code_refused``'s words) when the endpoint
        will not take the code, and when a platform with a refresh grant
        sends no refresh token; RateLimited and PlatformUnavailable as any call.
        """
        grant = {"grant_type": "authorization_code"} if self.names_code_grant else {}
        grant["code"] = code
        if redirect_uri is not None:
            grant["redirect_uri"] = redirect_uri
        grant.update(extra or {})
        tokens = self._grant(
            grant, keys=keys, connection=connection, token_url=token_url, refused=self.code_refused
        )
        if self.refreshes and not tokens.refresh_token:
            raise NotAuthorized(
                said(
                    "%(platform)s did not return a refresh token. Start Reauthorize again.",
                    platform=self.label,
                )
            )
        return tokens

    def refresh(
        self, refresh_token: str, *, keys: AppKeys, connection: Connection, token_url: str = ""
    ) -> Tokens:
        """A new access token for ``refresh_token``; NotAuthorized (``refresh_refused``) when it is no longer good.

        A platform that rotates refresh tokens sends a new one, and the old
        one stops working: keep ``Tokens.refresh_token`` when it is set.
        """
        grant = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if self.scope_on_refresh:
            grant["scope"] = self.scope
        return self._grant(
            grant, keys=keys, connection=connection, token_url=token_url, refused=self.refresh_refused
        )

    def _grant(
        self,
        grant: dict[str, str],
        *,
        keys: AppKeys,
        connection: Connection,
        token_url: str,
        refused: Said | str,
    ) -> Tokens:
        url = urlsplit(token_url or self.token_url)
        body = dict(grant)
        if self.client_auth != ClientAuth.BASIC:
            body["client_id"] = keys.client_id
        if self.client_auth == ClientAuth.BODY:
            body["client_secret"] = keys.client_secret
        sent = {"json": body} if self.encoding == Encoding.JSON else {"data": body}
        with _TokenEndpointHTTP(
            connection,
            label=self.label,
            base_url=f"{url.scheme}://{url.netloc}",
            throttle=throttle_for(
                f"{connection.bucket}:token", rate=TOKEN_RATE_PER_SECOND, burst=TOKEN_BURST
            ),
            auth=(keys.client_id, keys.client_secret) if self.client_auth == ClientAuth.BASIC else None,
            unauthorized_message=refused,
            forbidden_message=refused,
            secrets=[keys.client_secret, *(value for key, value in grant.items() if key != "grant_type")],
        ) as http:
            answer = http.request_json("POST", url.path or "/", **sent).data
        return self._tokens(answer)

    def _tokens(self, answer: Any) -> Tokens:
        access_token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise PlatformUnavailable(
                said(
                    "%(platform)s sent a token answer we could not read. "
                    "This is usually temporary; try again in a few minutes.",
                    platform=self.label,
                )
            )
        lifetime = _seconds(answer.get("expires_in"))
        if lifetime is None and self.lifetime is not None:
            lifetime = self.lifetime.total_seconds()
        refresh_token = answer.get("refresh_token")
        return Tokens(
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) else "",
            expires_at=None if lifetime is None else datetime.now(UTC) + timedelta(seconds=lifetime),
        )


def _seconds(value: Any) -> float | None:
    """``expires_in`` as seconds, or None when it is missing or not a sensible number."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return max(0.0, float(value))


# RFC 6749 §5.2: the endpoint turned the app's own keys down, not the merchant's grant.
_CLIENT_REFUSED = "invalid_client"


class _TokenEndpointHTTP(PlatformHTTP):
    """PlatformHTTP reading a token endpoint's refusals (400/401, RFC 6749 §5.2) before the generic mapping.

    Asking again with the same code or refresh token cannot succeed, so every
    refusal is NotAuthorized: the app's keys (``invalid_client``, or a 401
    naming no grant error) in words that put the fault on our side, anything
    else in the provider's words for the grant.
    """

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code in (400, 401):
            error = _error_code(response)
            if error == _CLIENT_REFUSED or (response.status_code == 401 and not error):
                raise NotAuthorized(
                    said(
                        "%(platform)s did not accept Commerce Kitty's app keys. "
                        "This is a configuration fault on our side; contact support.",
                        platform=self.label,
                    )
                )
            raise NotAuthorized(self.unauthorized_message)
        super()._raise_for_status(response)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else ""


def expires_at(credentials: Mapping[str, Any]) -> datetime | None:
    """When the stored access token expires; None when the credentials do not say.

    Written as ISO 8601; a number (seconds since the epoch) is read too, as
    credentials stored before were. A value that cannot be read counts as expired.
    """
    raw = credentials.get("access_token_expires_at")
    if raw is None or raw == "":
        return None
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return datetime.fromtimestamp(raw, UTC)
        parsed = datetime.fromisoformat(str(raw))
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.min.replace(tzinfo=UTC)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


class AccessToken:
    """The access token for one client call to a platform whose access tokens expire.

    ``call(send)`` hands ``send`` a live token: the stored one while it has
    more than REFRESH_MARGIN left, else one refreshed from the stored refresh
    token (or, while the token endpoint is down or throttling us, the stored
    one for as long as it has not expired). If the platform turns the token
    down (``send`` raises ``rejected``) and the token was not issued during
    this call, it is refreshed and ``send`` runs once more; a token refused
    right after it was issued means the authorization itself is gone, and
    the refusal stands.

    Without a refresh token or app keys nothing is refreshed: a stored token
    is sent as it is (the platform judges it), and no token at all is
    ``NotAuthorized`` in the provider's ``not_connected`` words.
    """

    def __init__(
        self, provider: OAuth2Provider, connection: Connection, *, keys: AppKeys | None, token_url: str = ""
    ):
        self.provider = provider
        self.connection = connection
        # Renewed tokens are written here, for the client's next call.
        self.credentials = connection.credentials
        self.keys = keys
        self.token_url = token_url
        self._issued: str = ""  # the token this call was issued, if any

    def call(self, send: Callable[[str], T], *, rejected: type[Exception] = NotAuthorized) -> T:
        """``send(token)``, sent again once with a renewed token when the platform turns a stored token down."""
        token = self.current()
        try:
            return send(token)
        except rejected:
            if token == self._issued or not self.can_refresh():
                raise
        return send(self.renew())

    def current(self) -> str:
        """A token to send: this call's own until it expires, else the stored one, else a renewed one."""
        now = datetime.now(UTC)
        token = str(self.credentials.get("access_token") or "").strip()
        expiry = expires_at(self.credentials)
        if token and token == self._issued:
            usable = expiry is None or now < expiry  # just issued: used even if it lives less than the margin
        else:
            usable = bool(token) and (expiry is None or now < expiry - REFRESH_MARGIN)
        if usable or (token and not self.can_refresh()):
            return token
        if not self.can_refresh():
            raise NotAuthorized(self._cannot_renew())
        try:
            return self.renew()
        except (RateLimited, PlatformUnavailable):
            # Inside the margin but not expired: good for this call, and the next one tries again.
            if token and expiry is not None and now < expiry:
                return token
            raise

    def can_refresh(self) -> bool:
        return bool(
            self.provider.refreshes
            and self.keys is not None
            and str(self.credentials.get("refresh_token") or "")
        )

    def renew(self) -> str:
        """Refresh the access token now, keep what came back, and return the new token."""
        used = str(self.credentials["refresh_token"])
        tokens = self.provider.refresh(
            used, keys=self.keys, connection=self.connection, token_url=self.token_url
        )
        renewed = tokens.credentials()
        self.credentials.update(renewed)
        self._issued = tokens.access_token
        if self.connection.credentials_renewed is not None:
            self.connection.credentials_renewed(dict(renewed))
        elif tokens.refresh_token and tokens.refresh_token != used:
            logger.warning(
                "%s rotated the refresh token for bucket %s with nobody to keep it; the old one is spent",
                self.provider.label,
                self.connection.bucket,
            )
        return tokens.access_token

    def _cannot_renew(self) -> Said | str:
        if self.provider.refreshes and self.credentials.get("refresh_token") and self.keys is None:
            return said(
                "This %(platform)s plugin has no access token, and Commerce Kitty cannot renew it: "
                "its %(platform)s app keys are not configured. Contact support.",
                platform=self.provider.label,
            )
        return self.provider.not_connected
