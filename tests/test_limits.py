"""The per-person limit behind tickets, watches and votes: a sliding window that refuses in words."""

import pytest
from django.core.cache import caches

from kitty_troubleshoot.limits import Limit, LimitRefused

# Nothing listens here: a Redis that is down.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def redis_cache(location: str, prefix: str = "kt") -> dict:
    return {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def two_a_minute(name="test:things") -> Limit:
    return Limit(
        name=name,
        allowed=2,
        window=60,
        too_many="You did {allowed} things. Wait {wait}.",
        unavailable="Cannot count things now.",
    )


def test_the_third_action_in_the_window_is_refused_with_the_wait(settings):
    limit = two_a_minute()
    limit.hit(7)
    limit.hit(7)
    with pytest.raises(LimitRefused) as refused:
        limit.hit(7)
    assert str(refused.value).startswith("You did 2 things. Wait ")
    assert str(refused.value).endswith(" seconds.")
    assert not refused.value.unavailable
    limit.hit(8)  # somebody else is counted on their own


def test_a_shared_redis_counts_for_every_process_under_the_cache_key_prefix(settings, redis_url):
    import redis

    settings.CACHES = redis_cache(redis_url, prefix="kt-limits-test")
    caches["default"].clear()
    limit = two_a_minute()
    limit.hit(7)
    limit.hit(7)
    with pytest.raises(LimitRefused):
        limit.hit(7)

    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("*limit*")]
    assert keys and all(k.startswith("kt-limits-test:") for k in keys)
    assert not any(part == "7" for k in keys for part in k.split(":"))  # the key names nobody


def test_an_unreachable_store_refuses_rather_than_lets_through(settings):
    settings.CACHES = redis_cache(DEAD_REDIS)
    with pytest.raises(LimitRefused) as refused:
        two_a_minute().hit(7)
    assert str(refused.value) == "Cannot count things now."
    assert refused.value.unavailable
