"""Per-plugin token buckets that keep us polite towards source platforms.

Every outbound platform call first takes a token from its plugin's bucket
(``Connection.bucket``, e.g. ``"plugin:42"``). With ``settings.REDIS_URL`` set
the bucket lives in Redis and one atomic Lua script updates it, so every web
process and Celery worker on every machine shares the same budget. Without
Redis (the zero-setup demo) the bucket lives in this process only.

Celery's ``rate_limit`` is deliberately not used: it is per worker, so ten
workers would hit a merchant's store ten times as hard.

A bucket can also be *blocked*: when a platform tells us to back off
(HTTP 429 with Retry-After, Shopify's THROTTLED), ``block_for`` makes every
process sharing the bucket wait until then instead of asking again.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from apps.platforms.base import RateLimited
from kitty_troubleshoot.said import said

logger = logging.getLogger(__name__)


# Keys start with CACHE_KEY_PREFIX like every other key we write to Redis (two
# deployments may share one), and carry the bucket in a hash tag so both keys of
# one bucket land on the same slot should Redis ever be clustered.
def key_prefix() -> str:
    return f"{getattr(settings, 'CACHE_KEY_PREFIX', 'kt')}:throttle"


# One script does the whole decision so two processes can never both spend
# the last token. It reads Redis' own clock: machines' clocks may disagree,
# Redis' clock is the one every process shares.
#
# The bucket is a reservation ("virtual scheduling") bucket: a caller that is
# willing to wait takes its tokens now, possibly driving the balance negative,
# and sleeps for the returned time. Waiters are therefore served in order and
# nobody spins re-asking Redis.
#
# Returns {code, seconds}: code 1 = granted after sleeping `seconds`;
# 0 = not within max_wait, tokens free up in `seconds`; 2 = blocked for `seconds`.
_ACQUIRE_LUA = """
local tokens_key = KEYS[1]
local block_key = KEYS[2]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked = tonumber(redis.call('GET', block_key) or '0')
if blocked > now then
  return {2, string.format('%.6f', blocked - now)}
end
local state = redis.call('HMGET', tokens_key, 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens < cost then
  wait = (cost - tokens) / rate
end
if wait > max_wait then
  return {0, string.format('%.6f', wait)}
end
tokens = tokens - cost
redis.call('HSET', tokens_key,
  'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
-- Forget the bucket once it would have refilled anyway.
redis.call('PEXPIRE', tokens_key, math.ceil((burst - tokens) / rate * 1000) + 1000)
return {1, string.format('%.6f', wait)}
"""

# Sets the block to now + seconds unless a later block is already in place:
# a short Retry-After must never shorten a longer one.
_BLOCK_LUA = """
local block_key = KEYS[1]
local seconds = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ts = now + seconds
local current = tonumber(redis.call('GET', block_key) or '0')
if current >= until_ts then
  return string.format('%.6f', current)
end
redis.call('SET', block_key, string.format('%.6f', until_ts),
  'PX', math.ceil(seconds * 1000) + 1000)
return string.format('%.6f', until_ts)
"""

_BLOCKED_UNTIL_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked = tonumber(redis.call('GET', KEYS[1]) or '0')
if blocked > now then
  return string.format('%.6f', blocked - now)
end
return false
"""

_GRANTED, _TOO_LONG, _BLOCKED = 1, 0, 2

_BLOCKED_MESSAGE = said("The platform asked us to slow down; we are waiting before asking again.")
_PACING_MESSAGE = said("We are pacing our requests to this platform; trying again shortly.")


@dataclass(frozen=True)
class _Decision:
    code: int
    seconds: float


class Throttle(abc.ABC):
    """A token bucket refilling at ``rate`` tokens per second, holding at most ``burst``."""

    def __init__(self, bucket: str, *, rate: float, burst: int):
        if rate <= 0 or burst < 1:
            raise ValueError("A throttle needs a positive rate and a burst of at least 1.")
        self.bucket = bucket
        self.rate = float(rate)
        self.burst = int(burst)

    def acquire(self, cost: float = 1, *, max_wait: float = 2.0) -> None:
        """Take ``cost`` tokens, sleeping up to ``max_wait`` seconds for them.

        Raises ``RateLimited`` (with ``retry_after``) when the tokens, or the
        end of a block set by ``block_for``, are further away than ``max_wait``.
        """
        deadline = time.monotonic() + max_wait
        while True:
            left = max(0.0, deadline - time.monotonic())
            decision = self._take(cost, left)
            if decision.code == _GRANTED:
                if decision.seconds > 0:
                    time.sleep(decision.seconds)
                    # The platform may have told another process to back off
                    # while we slept; our tokens are spent, but the block wins.
                    self._sit_out_block(deadline)
                return
            if decision.code == _BLOCKED and decision.seconds <= left:
                # The platform's block ends soon enough: sit it out, then
                # queue for tokens like everybody else.
                time.sleep(decision.seconds)
                continue
            message = _BLOCKED_MESSAGE if decision.code == _BLOCKED else _PACING_MESSAGE
            raise RateLimited(message, retry_after=decision.seconds)

    def _sit_out_block(self, deadline: float) -> None:
        remaining = self._block_remaining()
        if remaining is None:
            return
        if remaining > deadline - time.monotonic():
            raise RateLimited(_BLOCKED_MESSAGE, retry_after=remaining)
        time.sleep(remaining)

    def block_for(self, seconds: float) -> None:
        """Hold every caller of this bucket off for ``seconds`` (never shortens a longer block)."""
        if seconds > 0:
            self._block(float(seconds))

    def blocked_until(self) -> datetime | None:
        """When the current block ends (aware, UTC), or None when the bucket is not blocked."""
        remaining = self._block_remaining()
        if remaining is None:
            return None
        return datetime.now(UTC) + timedelta(seconds=remaining)

    @abc.abstractmethod
    def _take(self, cost: float, max_wait: float) -> _Decision: ...

    @abc.abstractmethod
    def _block(self, seconds: float) -> None: ...

    @abc.abstractmethod
    def _block_remaining(self) -> float | None: ...


# --- In-process buckets ------------------------------------------------------


class _LocalState:
    __slots__ = ("tokens", "updated", "blocked_until")

    def __init__(self, tokens: float, now: float):
        self.tokens = tokens
        self.updated = now
        self.blocked_until = 0.0  # time.monotonic() deadline


_local_lock = threading.Lock()
_local_states: dict[str, _LocalState] = {}


class LocalThrottle(Throttle):
    """A bucket shared by the threads of this process only (no Redis configured)."""

    def _state(self, now: float) -> _LocalState:
        state = _local_states.get(self.bucket)
        if state is None:
            state = _local_states[self.bucket] = _LocalState(float(self.burst), now)
        return state

    def _take(self, cost: float, max_wait: float) -> _Decision:
        with _local_lock:
            now = time.monotonic()
            state = self._state(now)
            if state.blocked_until > now:
                return _Decision(_BLOCKED, state.blocked_until - now)
            tokens = min(self.burst, state.tokens + (now - state.updated) * self.rate)
            wait = (cost - tokens) / self.rate if tokens < cost else 0.0
            if wait > max_wait:
                return _Decision(_TOO_LONG, wait)
            state.tokens = tokens - cost
            state.updated = now
            return _Decision(_GRANTED, wait)

    def _block(self, seconds: float) -> None:
        with _local_lock:
            now = time.monotonic()
            state = self._state(now)
            state.blocked_until = max(state.blocked_until, now + seconds)

    def _block_remaining(self) -> float | None:
        with _local_lock:
            state = _local_states.get(self.bucket)
            now = time.monotonic()
            if state is None or state.blocked_until <= now:
                return None
            return state.blocked_until - now


def reset_local_buckets() -> None:
    """Forget every in-process bucket (for tests and the demo's reset)."""
    with _local_lock:
        _local_states.clear()


# --- Redis buckets -------------------------------------------------------------

_redis_lock = threading.Lock()
_redis_clients: dict = {}


def redis_client(url: str):
    """One client, hence one connection pool, per process and URL.

    redis-py's pool notices a fork and opens fresh connections in the child,
    so Celery's prefork children never share a socket with their parent.
    """
    import redis  # imported here so the zero-setup demo never needs it at import time

    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url,
                socket_timeout=2.0,
                socket_connect_timeout=1.0,
                health_check_interval=30,
            )
            _redis_clients[url] = client
        return client


class RedisThrottle(Throttle):
    """A bucket shared by every process that talks to the same Redis."""

    def __init__(self, bucket: str, *, rate: float, burst: int, url: str):
        super().__init__(bucket, rate=rate, burst=burst)
        self.url = url
        client = redis_client(url)
        prefix = key_prefix()
        self._tokens_key = f"{prefix}:{{{bucket}}}:tokens"
        self._block_key = f"{prefix}:{{{bucket}}}:block"
        # register_script caches the SHA and falls back to EVAL after a
        # Redis restart (NOSCRIPT), so the scripts survive a flush.
        self._acquire_script = client.register_script(_ACQUIRE_LUA)
        self._block_script = client.register_script(_BLOCK_LUA)
        self._blocked_script = client.register_script(_BLOCKED_UNTIL_LUA)
        # Used only while Redis cannot be reached: politeness degrades to
        # per-process rather than every platform call failing.
        self._fallback = LocalThrottle(bucket, rate=rate, burst=burst)

    def _take(self, cost: float, max_wait: float) -> _Decision:
        import redis

        try:
            code, seconds = self._acquire_script(
                keys=[self._tokens_key, self._block_key],
                args=[self.rate, self.burst, cost, max_wait],
            )
        except redis.RedisError as exc:
            logger.warning("Throttle %s: Redis unavailable (%s), pacing in-process", self.bucket, exc)
            return self._fallback._take(cost, max_wait)
        return _Decision(int(code), float(seconds))

    def _block(self, seconds: float) -> None:
        import redis

        self._fallback._block(seconds)
        try:
            self._block_script(keys=[self._block_key], args=[seconds])
        except redis.RedisError as exc:
            logger.warning("Throttle %s: could not record a block in Redis (%s)", self.bucket, exc)

    def _block_remaining(self) -> float | None:
        import redis

        try:
            remaining = self._blocked_script(keys=[self._block_key])
        except redis.RedisError:
            return self._fallback._block_remaining()
        return None if remaining is None else float(remaining)


def throttle_for(bucket: str, *, rate: float, burst: int) -> Throttle:
    """The throttle for ``bucket``: in Redis when ``settings.REDIS_URL`` is set, else in-process.

    ``rate`` is tokens per second, ``burst`` the most tokens the bucket holds.
    Callers sharing a bucket should pass the same rate and burst.
    """
    url = getattr(settings, "REDIS_URL", "")
    if url:
        return RedisThrottle(bucket, rate=rate, burst=burst, url=url)
    return LocalThrottle(bucket, rate=rate, burst=burst)
