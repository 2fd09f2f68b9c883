"""The sync lock says whether it was taken, refused or could not be asked, and a sync acts on each."""

import pytest
from celery.exceptions import Retry
from django.db import OperationalError, connection

from apps.commerce import locks
from apps.commerce.locks import Lock, sync_lock, sync_lock_acquire
from apps.commerce.models import Order, SyncRun
from apps.commerce.tasks import sync_plugin
from tests.conftest import postgresql_required
from tests.factories import PluginFactory, ProductFactory, SandboxOrderFactory, store_of


@pytest.fixture
def plugin(db):
    plugin = PluginFactory()
    ProductFactory(merchant=plugin.merchant, code="SKU-A")
    SandboxOrderFactory(store=store_of(plugin), number="1001")
    return plugin


def test_the_lock_is_taken_refused_while_held_elsewhere_and_free_once_that_session_ends(
    plugin, other_process_holding_sync_lock
):
    with sync_lock(plugin.pk) as first:
        assert first is Lock.TAKEN
    holder = other_process_holding_sync_lock(plugin.pk)
    assert sync_lock_acquire(plugin.pk, wait=0.2) is Lock.REFUSED
    holder.close()  # as when a killed worker's connection ends
    with sync_lock(plugin.pk) as again:
        assert again is Lock.TAKEN


@pytest.mark.django_db(transaction=True)
def test_a_lock_whose_database_connection_was_lost_says_unavailable(plugin, other_process_holding_sync_lock):
    pid = connection.cursor().connection.info.backend_pid
    other_process_holding_sync_lock(0).execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        assert sync_lock_acquire(plugin.pk) is Lock.UNAVAILABLE
    finally:
        connection.close()


def test_a_sync_whose_lock_cannot_be_asked_tries_again_instead_of_being_skipped(plugin, monkeypatch, caplog):
    postgresql_required("on SQLite there is no lock to ask (set DATABASE_URL)")

    def database_not_answering(sql, plugin_id):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(locks, "_advisory", database_not_answering)
    with pytest.raises(Retry):  # called as a worker would, not eagerly
        sync_plugin(plugin.pk, SyncRun.Mode.SCHEDULED)
    assert "its lock could not be asked" in caplog.text
    assert "skipped" not in caplog.text

    monkeypatch.undo()  # the database answers again: the retry imports
    sync_plugin(plugin.pk, SyncRun.Mode.SCHEDULED)
    assert Order.objects.filter(plugin=plugin, number="1001").exists()


def test_syncs_run_while_the_cache_is_unreachable(plugin, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)
    SandboxOrderFactory(store=store_of(plugin), number="1002")
    sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)

    assert set(Order.objects.filter(plugin=plugin).values_list("number", flat=True)) == {"1001", "1002"}
    assert list(SyncRun.objects.filter(plugin=plugin).values_list("outcome", flat=True)) == ["succeeded"] * 2
