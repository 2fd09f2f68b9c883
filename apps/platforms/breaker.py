"""A store that keeps timing out is left alone for a moment: the breaker.

Every platform call that times out (no connection, or no answer, within the
connection's limits) is a strike against its plugin's store; an answer in
time clears them. After ``STRIKES`` strikes in a row, within ``WINDOW``
seconds, the store is *slow right now* for ``PAUSE`` seconds: each call to
it fails at once with ``PlatformSlow`` (a step's "couldn't check", a sync's
"we will try again") instead of holding a worker thread, and the merchant's
wait, for the whole read timeout again. The first call after the pause asks
the store again: one more timeout leaves it alone for another pause, an
answer clears its record.

The state is per plugin (``Connection.bucket``), never per platform: one
merchant's slow WooCommerce host or stalled Shopify store slows no one
else's. It lives in Redis beside the throttle's buckets (keys under
``CACHE_KEY_PREFIX``), shared by every web process and worker, at one round
trip a call (and one more after a timeout, or after the first answer that
follows one); without Redis, or while Redis cannot be reached, in this process.
"""

from __future__ import annotations

import abc
import logging
import threading
import time

from django.conf import settings

from apps.platforms.throttle import key_prefix, redis_client

logger = logging.getLogger(__name__)

STRIKES = 3  # timeouts in a row ...
WINDOW = 120.0  # ... within this many seconds: the store is slow right now
PAUSE = 30.0  # for this long, then asked again

# Counts a strike and, at STRIKES within the window, pauses the store; returns the strikes counted.
_STRIKE_LUA = """
local strikes = redis.call('INCR', KEYS[1])
if strikes == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
if strikes >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
end
return strikes
"""


class Breaker(abc.ABC):
    """One store's record of timeouts: whether to ask it now."""

    def __init__(self, bucket: str):
        self.bucket = bucket
        self._strikes_seen = False  # the store had strikes when last looked at: an answer clears them

    @abc.abstractmethod
    def paused_for(self) -> float | None:
        """Seconds left before the store is asked again, or None: ask it now."""

    def strike(self) -> None:
        """A call to the store timed out."""
        self._strikes_seen = True
        strikes = self._strike()
        if strikes >= STRIKES:
            logger.warning(
                "Breaker %s: %s timeouts in a row, the store is not asked for %.0f s",
                self.bucket,
                strikes,
                PAUSE,
            )

    def answered(self) -> None:
        """The store answered in time: its strikes are forgotten (a write only when it had some)."""
        if self._strikes_seen:
            self._strikes_seen = False
            self._forget()

    @abc.abstractmethod
    def _strike(self) -> int:
        """Record a timeout (pausing the store at STRIKES); return the strikes counted."""

    @abc.abstractmethod
    def _forget(self) -> None: ...


class _Closed(Breaker):
    """No breaker: a connection not yet tied to a saved plugin (its bucket names no store)."""

    def paused_for(self) -> float | None:
        return None

    def _strike(self) -> int:
        return 0

    def _forget(self) -> None:
        return None


_local_lock = threading.Lock()
# bucket: (strikes, when they are forgotten, paused until), in time.monotonic(): the Redis keys' state.
_local: dict[str, tuple[int, float, float]] = {}


class LocalBreaker(Breaker):
    """A breaker shared by the threads of this process only (no Redis configured, or Redis down).

    It keeps what the Redis keys keep, and as long: the strikes for WINDOW from the first.
    """

    def paused_for(self) -> float | None:
        with _local_lock:
            now = time.monotonic()
            strikes, forgotten_at, until = _local.get(self.bucket, (0, 0.0, 0.0))
            self._strikes_seen = strikes > 0 and forgotten_at > now
        return until - now if until > now else None

    def _strike(self) -> int:
        with _local_lock:
            now = time.monotonic()
            strikes, forgotten_at, until = _local.get(self.bucket, (0, 0.0, 0.0))
            if forgotten_at <= now:
                strikes, forgotten_at = 0, now + WINDOW
            strikes += 1
            if strikes >= STRIKES:
                until = now + PAUSE
            _local[self.bucket] = (strikes, forgotten_at, until)
        return strikes

    def _forget(self) -> None:
        with _local_lock:
            _, _, until = _local.get(self.bucket, (0, 0.0, 0.0))
            _local[self.bucket] = (0, 0.0, until)


def reset_local_breakers() -> None:
    """Forget every in-process breaker (for tests and the demo's reset)."""
    with _local_lock:
        _local.clear()


class RedisBreaker(Breaker):
    def __init__(self, bucket: str, *, url: str):
        super().__init__(bucket)
        self._client = redis_client(url)
        prefix = key_prefix()
        self._strikes_key = f"{prefix}:{{{bucket}}}:strikes"
        self._paused_key = f"{prefix}:{{{bucket}}}:paused"
        self._strike_script = self._client.register_script(_STRIKE_LUA)
        self._fallback = LocalBreaker(bucket)

    def paused_for(self) -> float | None:
        import redis

        try:
            # One round trip: the pause left, and whether there are strikes for an answer to clear.
            left_ms, strikes = (
                self._client.pipeline(transaction=False)
                .pttl(self._paused_key)
                .exists(self._strikes_key)
                .execute()
            )
        except redis.RedisError:
            left = self._fallback.paused_for()
            self._strikes_seen = self._fallback._strikes_seen
            return left
        self._strikes_seen = bool(strikes)
        return left_ms / 1000 if left_ms > 0 else None

    def _strike(self) -> int:
        import redis

        counted_here = self._fallback._strike()
        try:
            return int(
                self._strike_script(
                    keys=[self._strikes_key, self._paused_key],
                    args=[int(WINDOW * 1000), int(PAUSE * 1000), STRIKES],
                )
            )
        except redis.RedisError as exc:
            logger.warning("Breaker %s: could not record a timeout in Redis (%s)", self.bucket, exc)
            return counted_here

    def _forget(self) -> None:
        import redis

        self._fallback._forget()
        try:
            self._client.delete(self._strikes_key)
        except redis.RedisError as exc:
            logger.warning("Breaker %s: could not clear its timeouts in Redis (%s)", self.bucket, exc)


def breaker_for(bucket: str) -> Breaker:
    """The breaker of the store behind ``bucket`` ("plugin:<id>"): in Redis when ``REDIS_URL`` is set."""
    if bucket.endswith(":None"):
        return _Closed(bucket)
    url = getattr(settings, "REDIS_URL", "")
    return RedisBreaker(bucket, url=url) if url else LocalBreaker(bucket)
