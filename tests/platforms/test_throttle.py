"""The per-plugin token bucket, in-process and shared through Redis."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import UTC, datetime

import pytest

from apps.platforms.base import RateLimited
from apps.platforms.throttle import LocalThrottle, RedisThrottle, throttle_for
from tests.conftest import redis_url_for_tests


@pytest.fixture
def throttle_redis_url(settings) -> str:
    # Redis runs in CI (where its absence fails the test); without a
    # configured one, database 15 keeps tests away from real data.
    settings.REDIS_URL = redis_url_for_tests()
    return settings.REDIS_URL


def seconds_until(when: datetime) -> float:
    return (when - datetime.now(UTC)).total_seconds()


def test_throttle_for_uses_redis_only_when_configured(settings, bucket):
    settings.REDIS_URL = ""
    assert isinstance(throttle_for(bucket, rate=1, burst=1), LocalThrottle)

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"  # only chosen, never contacted here
    assert isinstance(throttle_for(bucket, rate=1, burst=1), RedisThrottle)


def test_a_burst_is_limited_then_refills(backend, bucket):
    throttle = throttle_for(bucket, rate=20, burst=3)

    for _ in range(3):
        throttle.acquire(max_wait=0)
    with pytest.raises(RateLimited) as caught:
        throttle.acquire(max_wait=0)

    assert 0 < caught.value.retry_after <= 0.05 + 0.01
    started = time.monotonic()
    throttle.acquire(max_wait=1)  # waits for the next token instead of failing
    assert time.monotonic() - started < 0.5


def test_waiting_callers_are_paced_at_the_rate(backend, bucket):
    throttle = throttle_for(bucket, rate=50, burst=1)

    started = time.monotonic()
    for _ in range(11):
        throttle.acquire(max_wait=5)
    elapsed = time.monotonic() - started

    assert elapsed >= 10 / 50 * 0.9


def test_block_for_holds_every_caller_of_the_bucket_off(backend, bucket):
    throttle_for(bucket, rate=100, burst=100).block_for(30)

    other = throttle_for(bucket, rate=100, burst=100)  # e.g. another task, same plugin
    with pytest.raises(RateLimited) as caught:
        other.acquire()

    assert 29 < caught.value.retry_after <= 30
    assert 29 < seconds_until(other.blocked_until()) <= 30


def test_a_short_block_is_sat_out_within_max_wait(backend, bucket):
    throttle = throttle_for(bucket, rate=100, burst=100)
    throttle.block_for(0.2)

    started = time.monotonic()
    throttle.acquire(max_wait=1)

    assert time.monotonic() - started >= 0.15
    assert throttle.blocked_until() is None


def test_a_shorter_block_never_shortens_a_longer_one(backend, bucket):
    throttle = throttle_for(bucket, rate=1, burst=1)
    throttle.block_for(60)
    throttle.block_for(5)

    assert seconds_until(throttle.blocked_until()) > 55


def test_an_unused_bucket_is_not_blocked(backend, bucket):
    assert throttle_for(bucket, rate=1, burst=1).blocked_until() is None


def test_unreachable_redis_falls_back_to_an_in_process_bucket(settings, bucket):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    throttle = throttle_for(bucket, rate=10, burst=2)

    throttle.acquire(max_wait=0)
    throttle.acquire(max_wait=0)
    with pytest.raises(RateLimited):
        throttle.acquire(max_wait=0)


# Forked children start in milliseconds (nothing to import again), which keeps
# these tests fast; they are still separate processes with their own Redis
# connections, exactly like two Celery worker processes.
FORK = multiprocessing.get_context("fork")


def take_tokens(bucket: str, rate: float, burst: int, count: int, start, results) -> None:
    throttle = throttle_for(bucket, rate=rate, burst=burst)
    start.wait(10)
    granted = []
    for _ in range(count):
        throttle.acquire(max_wait=30)
        granted.append(time.time())
    results.put((os.getpid(), granted))


def block_bucket(bucket: str, seconds: float) -> None:
    throttle_for(bucket, rate=1, burst=1).block_for(seconds)


def test_two_processes_sharing_a_redis_bucket_keep_the_combined_rate(throttle_redis_url, bucket):
    rate, burst, each = 50.0, 4, 20
    start, results = FORK.Event(), FORK.Queue()
    workers = [
        FORK.Process(target=take_tokens, args=(bucket, rate, burst, each, start, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [results.get(timeout=30) for _ in workers]
    for worker in workers:
        worker.join(timeout=5)
        assert worker.exitcode == 0

    assert len({pid for pid, _ in outcomes} | {os.getpid()}) == 3  # three real processes
    grants = [granted for _, granted in outcomes]
    # The processes really ran side by side...
    assert max(g[0] for g in grants) < min(g[-1] for g in grants)
    # ...yet together took what one bucket allows: after the burst, `rate` a second.
    times = sorted(grants[0] + grants[1])
    assert times[-1] - times[0] >= (2 * each - burst) / rate * 0.9
    # No window ever saw more grants than the bucket could give.
    slack = 0.02  # scheduling jitter between Redis granting and the process noting the time
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            assert j - i + 1 <= burst + rate * (times[j] - times[i] + slack) + 1


def test_a_block_set_in_another_process_is_honoured(throttle_redis_url, bucket):
    worker = FORK.Process(target=block_bucket, args=(bucket, 20))
    worker.start()
    worker.join(timeout=10)
    assert worker.exitcode == 0

    throttle = throttle_for(bucket, rate=100, burst=100)

    assert 19 < seconds_until(throttle.blocked_until()) <= 20
    with pytest.raises(RateLimited):
        throttle.acquire()
