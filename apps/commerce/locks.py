"""The per-plugin sync lock: PostgreSQL session advisory locks.

The lock lives in the database every sync writes to anyway, not in the cache:
the cache degrades to a no-op while Redis is down, which would make a lock
there either always refused or never held. A session-level advisory lock
belongs to the worker's database connection, so PostgreSQL releases it the
moment that connection ends, also when the worker was killed: the task the
broker redelivers (or the next scheduled sync) finds it free at once, and no
lock outlives its holder.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

# The first key of the two-key form of the advisory lock: "sync" among this
# application's locks; the second is the plugin's id.
SYNC_LOCK_CLASS = 0x4B7401
# A killed holder's connection takes a moment to end on the server: a redelivered
# task that arrives first waits this long before calling the lock held.
HOLDER_GONE_WAIT = 2.0


class Lock(enum.Enum):
    TAKEN = "taken"  # this process holds it now
    REFUSED = "refused"  # another sync holds it
    UNAVAILABLE = "unavailable"  # the database could not be asked


def _advisory(sql: str, plugin_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, [SYNC_LOCK_CLASS, plugin_id])
        return bool(cursor.fetchone()[0])


def sync_lock_acquire(plugin_id: int, *, wait: float = HOLDER_GONE_WAIT) -> Lock:
    """Try to take the plugin's sync lock; say whether it was taken, refused or could not be asked."""
    if connection.vendor != "postgresql":
        # The SQLite demo runs syncs eagerly in one process; imports are idempotent anyway.
        return Lock.TAKEN
    give_up = time.monotonic() + wait
    try:
        while not _advisory("SELECT pg_try_advisory_lock(%s, %s)", plugin_id):
            if time.monotonic() >= give_up:
                return Lock.REFUSED
            time.sleep(0.1)
    except DatabaseError as exc:
        logger.warning("sync lock of plugin %s could not be asked: %s", plugin_id, exc.__class__.__name__)
        return Lock.UNAVAILABLE
    return Lock.TAKEN


def sync_lock_release(plugin_id: int) -> None:
    """Release the lock this process took; a connection that ended took the lock with it."""
    if connection.vendor != "postgresql":
        return
    try:
        _advisory("SELECT pg_advisory_unlock(%s, %s)", plugin_id)
    except DatabaseError:
        # The connection is broken: closing it ends the session and so the lock.
        logger.warning("sync lock of plugin %s released by closing the connection", plugin_id)
        connection.close()


@contextmanager
def sync_lock(plugin_id: int, *, wait: float = HOLDER_GONE_WAIT) -> Iterator[Lock]:
    """Hold the plugin's sync lock for the block if it could be taken; yields what happened."""
    state = sync_lock_acquire(plugin_id, wait=wait)
    try:
        yield state
    finally:
        if state is Lock.TAKEN:
            sync_lock_release(plugin_id)
