"""Import 10,000 demo-marketplace orders into PostgreSQL through the real importer.

Prints orders/s and the importing process's peak memory (RSS). Targets: at
least 500 orders/s and peak RSS under 300 MB.

    uv run python bench/import_orders.py [--orders 10000] [--lines 2] [--keep]

It creates (and afterwards drops) its own database on the local PostgreSQL
server; nothing but 127.0.0.1 is contacted. The import runs in a child
process so the peak RSS is the importer's alone, not the seeding's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from stack import REPO, database_drop, database_recreate, database_url, django_setup

DB_NAME = "kitty_bench_import"


def bench_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        DEBUG="1",  # development keys; the importer's code path is the same
        DATABASE_URL=database_url(DB_NAME),
        DJANGO_SETTINGS_MODULE="kitty_troubleshoot.settings",
        LOG_LEVEL="WARNING",
    )
    return env


def seed(orders: int, lines: int) -> int:
    """A merchant with a catalog, one plugin, and ``orders`` paid orders on its demo store."""
    django_setup()
    from datetime import timedelta

    from django.utils import timezone

    from apps.commerce.models import Channel, Merchant, Plugin, Product
    from apps.platforms.models import SandboxOrder, SandboxStore

    now = timezone.now()
    merchant = Merchant.objects.create(name="Bench merchant")
    channel = Channel.objects.create(merchant=merchant, name="Web", code="web")
    skus = [f"SKU-{n:04d}" for n in range(2000)]
    Product.objects.bulk_create(Product(merchant=merchant, code=s, name=s) for s in skus)
    store = SandboxStore.objects.create(handle="bench", name="Bench store")
    plugin = Plugin.objects.create(
        merchant=merchant,
        platform="sandbox",
        name="Bench plugin",
        import_orders=True,
        import_orders_enabled_at=now - timedelta(days=30),
        credentials={"store": store.handle, "access_token": store.access_token},
    )
    plugin.channels.set([channel])
    batch = []
    for n in range(orders):
        batch.append(
            SandboxOrder(
                store=store,
                number=str(100000 + n),
                placed_at=now - timedelta(days=20) + timedelta(seconds=n * 10),
                lines=[
                    {"sku": skus[(n * lines + i) % len(skus)], "quantity": 1 + i, "title": "Item"}
                    for i in range(lines)
                ],
                email=f"buyer{n % 3000}@example.com",  # repeat buyers, as in real life
                first_name="Bench",
                last_name=f"Buyer {n}",
                currency="USD",
            )
        )
        if len(batch) == 2000:
            SandboxOrder.objects.bulk_create(batch)
            batch.clear()
    SandboxOrder.objects.bulk_create(batch)
    return plugin.pk


def run_import(plugin_id: int) -> None:
    """Child process: one real sync, then report timing and peak RSS as JSON."""
    django_setup()
    import resource

    from apps.commerce.importing import plugin_sync
    from apps.commerce.models import Plugin

    plugin = Plugin.objects.get(pk=plugin_id)
    started = time.perf_counter()
    run = plugin_sync(plugin=plugin, mode="manual")
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "imported": run.imported,
                "seen": run.seen,
                "outcome": run.outcome,
                "seconds": elapsed,
                "peak_kb": peak_kb,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=2, help="lines per order")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_import(args.child)
        return 0

    env = bench_env()
    os.environ.update(env)
    database_recreate(DB_NAME)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        print(f"seeding {args.orders} orders with {args.lines} lines each ...", flush=True)
        plugin_id = seed(args.orders, args.lines)
        from django.db import connections

        connections.close_all()
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(plugin_id)],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(DB_NAME)

    rate = result["imported"] / result["seconds"]
    peak_mb = result["peak_kb"] / 1024
    print(f"outcome          {result['outcome']} ({result['imported']} of {result['seen']} orders imported)")
    print(f"time             {result['seconds']:.2f} s")
    print(f"orders/s         {rate:,.0f}   (target >= 500: {'PASS' if rate >= 500 else 'FAIL'})")
    print(f"peak RSS         {peak_mb:.0f} MB (target < 300 MB: {'PASS' if peak_mb < 300 else 'FAIL'})")
    return 0 if result["imported"] == args.orders and rate >= 500 and peak_mb < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
