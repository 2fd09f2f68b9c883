"""Per-user limits on what people send us (tickets, watches, votes): one helper, failing closed.

A limit counts a person's actions in a sliding window (no clock-hour reset)
in the shared cache, so every web process on every machine counts together.
Unlike the cache's other uses, a limit cannot degrade to "nothing cached":
a counter that is not there lets everything through. So while the store is
unreachable the limit refuses, in words, and the caller shows the words
(tickets, watches and votes can wait minutes; a flood cannot be taken back).

Check starts are limited from their own rows in the database instead
(apps/checks/services/start_limits.py) and sign-ins by django-axes: both live in the
database each of them writes anyway, so they have no second store to lose.

Lives beside the cache backend, the lowest layer every app may import.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# One script decides, so two requests at once cannot both take the last place.
# Redis' clock is the one every process shares. Returns false when the action
# is counted, else the seconds until the oldest counted action leaves the window.
_HIT_LUA = """
local key = KEYS[1]
local allowed = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= allowed then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] == nil then  -- a limit of 0: nothing is allowed
    return string.format('%.3f', window)
  end
  return string.format('%.3f', tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', key, now, ARGV[3])
redis.call('EXPIRE', key, math.ceil(window))
return false
"""

_local_lock = threading.Lock()


class LimitRefused(Exception):
    """Too many actions in the window, or the limit's store is unreachable; ``str()`` says which and what to do."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.unavailable = retry_after is None  # the store was unreachable: nothing was counted


@dataclass(frozen=True)
class Limit:
    """At most ``allowed`` actions named ``name`` per person in ``window`` seconds.

    ``too_many`` is a whole sentence with the placeholders ``{allowed}`` and
    ``{wait}`` (e.g. "12 minutes"); ``unavailable`` is said while the store
    cannot be reached.
    """

    name: str
    allowed: int
    window: int
    too_many: str
    unavailable: str

    def hit(self, who: object) -> None:
        """Count one action by ``who`` (a user id, an address…); raises LimitRefused instead when it is one too many.

        ``who`` is hashed into the key: a key names nobody in Redis' own tools.
        """
        cache = caches["default"]
        digest = hashlib.sha256(f"{self.name}:{who}".encode()).hexdigest()[:32]
        # make_key adds CACHE_KEY_PREFIX (and the cache's version), as for every other cache key.
        key = cache.make_and_validate_key(f"limit:{self.name}:{digest}")
        try:
            if isinstance(cache, RedisCache):
                wait = self._hit_redis(cache, key)
            else:
                wait = self._hit_local(cache, key)
        except Exception as exc:  # the store is unreachable (or answers nonsense): refuse, never let through
            logger.warning("limit %s: store unavailable, refusing: %s", self.name, exc.__class__.__name__)
            raise LimitRefused(self.unavailable) from None
        if wait is not None:
            raise LimitRefused(
                self.too_many.format(allowed=self.allowed, wait=_human_wait(wait)), retry_after=wait
            )

    def _hit_redis(self, cache: RedisCache, key: str) -> float | None:
        # The raw client: the cache's own methods swallow Redis errors (kitty_troubleshoot.cache).
        client = cache._cache.get_client(key, write=True)
        script = client.register_script(_HIT_LUA)
        member = f"{time.time():.6f}:{secrets.token_hex(4)}"
        answer = script(keys=[key], args=[self.allowed, self.window, member])
        return None if answer is None else float(answer)

    def _hit_local(self, cache, key: str) -> float | None:
        # The zero-setup cache lives in this process: a lock makes the count exact.
        with _local_lock:
            now = time.time()
            stamps = [t for t in cache.get(key, []) if t > now - self.window]
            if len(stamps) >= self.allowed:
                return stamps[0] + self.window - now if stamps else float(self.window)
            cache.set(key, [*stamps, now], self.window)
            return None


def _human_wait(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} second" + ("" if seconds == 1 else "s")
    minutes = round(seconds / 60)
    return f"{minutes} minute" + ("" if minutes == 1 else "s")
