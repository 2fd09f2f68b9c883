"""Two syncs of one plugin at the same moment create every order exactly once (PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.commerce.importing import plugin_sync
from apps.commerce.models import Order, OrderLine, Plugin
from apps.platforms.models import SandboxOrder
from tests.conftest import service_missing
from tests.factories import PluginFactory, ProductFactory, store_of


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_syncs_create_each_order_once():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        service_missing("this race needs PostgreSQL's row locks (set DATABASE_URL)")
    plugin = PluginFactory()
    ProductFactory(merchant=plugin.merchant, code="SKU-A")
    SandboxOrder.objects.bulk_create(
        SandboxOrder(
            store=store_of(plugin),
            number=str(n),
            placed_at=timezone.now() - timedelta(minutes=n + 1),
            lines=[{"sku": "SKU-A", "quantity": 1}],
            email=f"b{n}@example.com",
            first_name="B",
        )
        for n in range(1500)
    )
    start = threading.Barrier(2)
    runs, errors = [], []

    def sync():
        try:
            start.wait()
            runs.append(plugin_sync(plugin=Plugin.objects.get(pk=plugin.pk)))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Order.objects.count() == 1500
    assert OrderLine.objects.count() == 1500
    assert sorted(r.imported for r in runs) != [1500, 1500]
    assert sum(r.imported for r in runs) == 1500
    assert all(r.imported + r.already_imported == 1500 for r in runs)
