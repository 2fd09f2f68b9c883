"""A Redis cache that degrades to "nothing cached" while Redis is unreachable.

Everything the cache holds can be recomputed (rendered pages, rate-limit
counters, Wagtail's site root paths), so an outage must cost speed, not
pages: reads miss, writes are dropped, and each failure is logged.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _degrading(name: str, fallback):
    """Wrap ``RedisCache.<name>`` so a Redis error returns ``fallback(*args, **kwargs)`` instead."""
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as exc:
            logger.warning("cache %s failed, carrying on without the cache: %s", name, exc)
            return fallback(*args, **kwargs)

    return wrapper


def _missing_key(*args, **kwargs):
    # incr/decr on a key the cache does not hold: what callers already handle.
    raise ValueError("the cache is unavailable")


def _default(key, default=None, *args, **kwargs):
    return default


class ResilientRedisCache(RedisCache):
    get = _degrading("get", _default)
    get_many = _degrading("get_many", lambda *a, **k: {})
    has_key = _degrading("has_key", lambda *a, **k: False)
    add = _degrading("add", lambda *a, **k: False)
    set = _degrading("set", lambda *a, **k: None)
    set_many = _degrading("set_many", lambda data, *a, **k: list(data))
    touch = _degrading("touch", lambda *a, **k: False)
    delete = _degrading("delete", lambda *a, **k: False)
    delete_many = _degrading("delete_many", lambda *a, **k: None)
    incr = _degrading("incr", _missing_key)
    decr = _degrading("decr", _missing_key)
    clear = _degrading("clear", lambda *a, **k: False)
