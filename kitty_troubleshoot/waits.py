"""What to do before a call that may wait on the world outside (a platform): e.g. write what is done so far.

A check task writes the results of its quick checks together, in one
statement, rather than one by one; but a result must never wait behind a
later check that waits on a slow platform. So the task registers its
writing here (``before_waiting``), and every platform call says it is about
to wait (``about_to_wait``) before it sends anything. Per thread (and per
context), so one worker thread's pending results never flush another's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_before: ContextVar[Callable[[], None] | None] = ContextVar("before_waiting", default=None)


@contextmanager
def before_waiting(callback: Callable[[], None]) -> Iterator[None]:
    """Within this block, ``callback`` runs before each call that may wait on the outside world."""
    token = _before.set(callback)
    try:
        yield
    finally:
        _before.reset(token)


def about_to_wait() -> None:
    """Called by whatever is about to wait on the outside world (``apps.platforms.http``)."""
    callback = _before.get()
    if callback is not None:
        callback()
