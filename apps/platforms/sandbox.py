"""The demo marketplace's client: local tables behaving like a remote platform.

It enforces what a real platform does (credentials, rate limits, a history
window, capabilities) from the store row an admin edits, so a demo can stage
"the token was rotated" or "we are rate limited" with a click in admin.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.utils import timezone

from apps.platforms.authorization import AuthorizationAnswer, AuthorizationFlow, AuthorizationStart
from apps.platforms.base import (
    Buyer,
    Capabilities,
    MalformedOrder,
    NotAuthorized,
    OrderState,
    PlatformClient,
    RateLimited,
    SourceOrder,
    SourceOrderLine,
    StatusWord,
    UnreadableOrder,
    normalize_order_number,
    source_state,
)
from apps.platforms.models import DEMO_WORDS, STATUSES, SandboxOrder, SandboxOrderStatus, SandboxStore
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.said import said

# Generous: the demo store is a local table. One "request" returns a page of
# PAGE_SIZE orders, so 50 requests/s is far above the 500 orders/s an import
# needs.
RATE_PER_SECOND = 50.0
BURST = 100
PAGE_SIZE = 1000
LIST_MAX_WAIT = 10.0

DEFAULT_CAPABILITIES = Capabilities(backfill=True, manual_sync=True, history_days=None)

_SHAPE_MESSAGE = said("The demo marketplace holds this order in a shape we did not expect.")

_ORDER_FIELDS = (
    "id",
    "number",
    "placed_at",
    "status",
    "lines",
    "email",
    "first_name",
    "last_name",
    "address_line1",
    "city",
    "postcode",
    "country",
    "currency",
    "total",
    "imitates",
)


class _StoreCapabilities:
    """``SandboxClient.capabilities``: the class default, or the store row's flags on an instance.

    The registry asks the class what a platform can do; a connected client
    answers for its own store, which an admin may have changed.
    """

    def __get__(self, instance: SandboxClient | None, owner: type) -> Capabilities:
        if instance is None:
            return DEFAULT_CAPABILITIES
        store = instance._find_store()
        return DEFAULT_CAPABILITIES if store is None else store.capabilities


class SandboxClient(PlatformClient):
    """One demo store. Credentials: ``{"store": handle, "access_token": token}``."""

    key = "sandbox"
    label = said("Demo marketplace")
    capabilities = _StoreCapabilities()  # type: ignore[assignment]
    credential_fields = ("store", "access_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The store's order with this number, or None (also when outside the history window)."""
        store = self._authorized_store()
        wanted = normalize_order_number(number)
        orders = SandboxOrder.objects.filter(store=store, number=wanted)
        visible_since = store.visible_since()
        if visible_since is not None:
            orders = orders.filter(placed_at__gte=visible_since)
        row = orders.values_list(*_ORDER_FIELDS).first()
        return None if row is None else _source_order(row)

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders placed at or after ``since``, oldest first, streamed in pages of 1000.

        Each page is one "request": it is throttled and re-checks the store's
        credentials and rate limit, as a paging API would, and pages by key
        (placed_at, id) so memory stays flat however many orders there are.
        """
        if since.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
            since = since.replace(tzinfo=UTC)
        last: tuple[datetime, int] | None = None
        while True:
            store = self._authorized_store(max_wait=LIST_MAX_WAIT)
            start = since
            visible_since = store.visible_since()
            if visible_since is not None and visible_since > start:
                start = visible_since
            orders = SandboxOrder.objects.filter(store=store, placed_at__gte=start)
            if last is not None:
                last_at, last_id = last
                orders = orders.filter(placed_at__gte=last_at).exclude(placed_at=last_at, id__lte=last_id)
            rows = list(orders.order_by("placed_at", "id").values_list(*_ORDER_FIELDS)[:PAGE_SIZE])
            for row in rows:
                yield _listed_order(row)
            if len(rows) < PAGE_SIZE:
                return
            last = (rows[-1][2], rows[-1][0])

    def check_authorization(self) -> None:
        """Quiet when the store exists and accepts the token; NotAuthorized otherwise."""
        self._authorized_store()

    # --- internals ---------------------------------------------------------

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    def _find_store(self) -> SandboxStore | None:
        handle = str(self.connection.credentials.get("store") or "").strip()
        if not handle:
            return None
        return SandboxStore.objects.filter(handle=handle).first()

    def _authorized_store(self, *, max_wait: float = 2.0) -> SandboxStore:
        """The store row, after the checks a real platform makes on every request."""
        self.throttle.acquire(max_wait=max_wait)
        store = self._find_store()
        if store is None:
            raise NotAuthorized(
                said(
                    "The demo marketplace has no such demo store. Check the store in the plugin "
                    "settings, or reconnect the plugin."
                )
            )
        if store.reject_credentials:
            raise NotAuthorized(
                said(
                    "The demo store “%(store)s” refused the plugin's credentials "
                    "(the app was disconnected). Reauthorize the plugin.",
                    store=store.name,
                )
            )
        token = str(self.connection.credentials.get("access_token") or "")
        # Constant-time comparison, as any token check should be.
        if not hmac.compare_digest(token.encode(), store.access_token.encode()):
            raise NotAuthorized(
                said(
                    "The demo store “%(store)s” no longer accepts this plugin's access token "
                    "(it was rotated or revoked). Reauthorize the plugin.",
                    store=store.name,
                )
            )
        if store.throttled_until is not None:
            remaining = (store.throttled_until - timezone.now()).total_seconds()
            if remaining > 0:
                # Like a real 429: every process sharing the bucket holds off.
                self.throttle.block_for(remaining)
                raise RateLimited(
                    said(
                        "The demo store “%(store)s” is rate limiting us; we will wait before asking again.",
                        store=store.name,
                    ),
                    retry_after=remaining,
                )
        return store


def _imitated_words(imitates: str, state: OrderState) -> StatusWord | None:
    """The imitated platform's table entry for ``state`` (with its words); None: the demo's own word."""
    if not imitates:
        return None
    from apps.platforms.registry import UnknownPlatform, provider  # the table imports this module

    try:
        return provider(imitates).demo_statuses.get(state)
    except UnknownPlatform:
        return None


def _listed_order(row: tuple[Any, ...]) -> SourceOrder | UnreadableOrder:
    """One order of a listing: normalized, or marked unreadable so the others still import."""
    try:
        return _source_order(row)
    except MalformedOrder:
        return UnreadableOrder(id=str(row[0]), number=row[1], reason=_SHAPE_MESSAGE)


def _line(line: dict[str, Any]) -> SourceOrderLine | None:
    raw = line.get("quantity")
    quantity = 1 if raw is None else int(raw)
    if quantity <= 0:  # nothing to ship: validate_lines refuses it, an update() may not
        return None
    return SourceOrderLine(
        sku=str(line.get("sku") or ""), quantity=quantity, title=str(line.get("title") or "")
    )


def _source_order(row: tuple[Any, ...]) -> SourceOrder:
    """Normalize one row of _ORDER_FIELDS (raises MalformedOrder for rows that skipped validation)."""
    try:
        return _normalized(row)
    except (TypeError, ValueError, AttributeError, OverflowError, KeyError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _normalized(row: tuple[Any, ...]) -> SourceOrder:
    (
        pk,
        number,
        placed_at,
        status,
        lines,
        email,
        first_name,
        last_name,
        address_line1,
        city,
        postcode,
        country,
        currency,
        total,
        imitates,
    ) = row
    status = SandboxOrderStatus(status)
    own = STATUSES.read(status)
    imitated = _imitated_words(imitates, own.state)
    entry = imitated or own
    return SourceOrder(
        id=str(pk),
        number=number,
        placed_at=placed_at,
        platform_status=imitated.word if imitated else DEMO_WORDS[status],
        **source_state(entry),
        lines=tuple(
            line for line in (_line(raw) for raw in lines or [] if isinstance(raw, dict)) if line is not None
        ),
        buyer=Buyer(
            email=email,
            first_name=first_name,
            last_name=last_name,
            address_line1=address_line1,
            city=city,
            postcode=postcode,
            country=country,
        ),
        currency=currency,
        total=total,
    )


class SandboxAuthorization(AuthorizationFlow):
    """The demo marketplace's consent page is served by this site; allowing issues a fresh token."""

    consent_is_local = True

    def available(self) -> bool:
        return True

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        return f"{start.local_consent_url}?{urlencode({'next': start.next_url})}"

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        """The store takes the app back (clearing a staged disconnect) and issues a new token."""
        with transaction.atomic():
            store = (
                SandboxStore.objects.select_for_update()
                .filter(handle=str(answer.credentials.get("store") or ""))
                .first()
            )
            if store is None:
                raise NotAuthorized(
                    said(
                        "The plugin is connected to a demo store that no longer exists. "
                        "An admin can connect it to another store in Django admin."
                    )
                )
            store.reject_credentials = False
            token = store.rotate_token()
            store.save(update_fields=["reject_credentials"])
        return {"access_token": token}


CLIENT = SandboxClient
AUTHORIZATION = SandboxAuthorization()
