"""Import 10,000 orders into PostgreSQL through the real importer, platform by platform.

For each platform asked for: a merchant with a catalog of 2,000 products, one
plugin, and ``--orders`` paid orders of ``--lines`` lines on its store; then
one manual sync, ``plugin_sync(plugin=…, mode="manual")``, in a child process,
so the peak RSS is the importer's alone, not the seeding's or the stub's.
Prints per platform the orders imported of those the sync saw, the time,
orders/s and the importer's peak memory (RSS), and at the end one line with
every platform's figures. Targets: at least 500 orders/s and peak RSS under
300 MB, with every order imported; the exit status is 1 when a platform
misses any of them.

    uv run python bench/import_orders.py [--platform sandbox | all | shopify,etsy,…]
        [--orders 10000] [--lines 2] [--time-limit 180] [--db-name NAME] [--keep]

``--platform sandbox``, the default, is the demo marketplace: its orders are
rows in its own tables. Every other platform (``all`` is every one, the demo
marketplace too) is imported by its real client in ``apps/platforms``
talking HTTP to a stub of its API on 127.0.0.1 (``platform_stubs.py``): the
platform's documented shapes and largest page, its token endpoint where the
client renews a token (eBay, Amazon's Login with Amazon, Etsy), orders
rendered before the import starts so the stub never holds it up. Where a
client paces itself from what the platform reports (Shopify's
throttleStatus, BigCommerce's X-Rate-Limit-* headers, Etsy's x-remaining-*),
the stub reports a generous allowance that never runs out, and it never
answers 429: what is measured is the importer and the client as they run
in production, with the plugin's own throttle unchanged. A platform whose
throttle cannot reach 500 orders/s therefore fails; the report names the
most its pacing allows ("pacing ceiling") and how many requests it sent.

``--time-limit`` (seconds; 0: none) ends each import through the importer's
own time budget, ``plugin_sync(time_budget=…)``, as a sync task's slice ends
in production: a platform whose pacing needs longer stops there, imports what
it fetched and fails. Amazon fetches each order's items on its own at
getOrderItems' published 0.5 requests/s, so 10,000 orders take 5.5 hours.

``--unpaced`` takes the plugins' throttles out of the child process (every
token granted at once): the figure is then what our clients and the importer
manage, the part this code decides; the default run is what a merchant's
import gets at the platforms' published limits.

It creates (and afterwards drops) its own database on the local PostgreSQL
server: ``kitty_bench_import`` for the demo marketplace alone, as before,
and ``kitty_bench_import_platforms`` otherwise, so both can run at once
(``--db-name`` picks another). Nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from platform_stubs import STUBS, PlatformStub, bench_orders, environment
from stack import (
    REPO,
    BenchError,
    database_drop,
    database_name,
    database_recreate,
    database_url,
    django_setup,
    run_child,
)

PLATFORMS = ("sandbox", "shopify", "woocommerce", "bigcommerce", "ebay", "amazon", "etsy")
DB_NAME = "kitty_bench_import"  # the demo marketplace alone
PLATFORMS_DB_NAME = "kitty_bench_import_platforms"
CATALOG_SIZE = 2000
TARGET_RATE = 500  # orders/s, at least
TARGET_RSS_MB = 300  # less than


def platform_list(value: str) -> tuple[str, ...]:
    """An argparse ``type``: ``all``, or platform keys separated by commas."""
    if value.strip() == "all":
        return PLATFORMS
    names = tuple(dict.fromkeys(name.strip() for name in value.split(",") if name.strip()))
    unknown = [name for name in names if name not in PLATFORMS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"choose from all, {', '.join(PLATFORMS)}")
    return names


def bench_env(db_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        DEBUG="1",  # development keys; the importer's code path is the same
        DATABASE_URL=database_url(db_name),
        DJANGO_SETTINGS_MODULE="kitty_troubleshoot.settings",
        LOG_LEVEL="WARNING",
    )
    env.update(environment())  # the app keys a stub's client reads from settings (eBay's)
    return env


# --- Seeding (this process) ------------------------------------------------------


def catalog_seed(platform: str):
    """A merchant of its own for ``platform`` (so no import finds another's customers), its one channel
    and CATALOG_SIZE products; returns (merchant, channel, SKUs)."""
    from apps.commerce.models import Channel, Merchant, Product

    merchant = Merchant.objects.create(name=f"Bench merchant ({platform})")
    channel = Channel.objects.create(merchant=merchant, name="Web", code="web")
    skus = [f"SKU-{n:04d}" for n in range(CATALOG_SIZE)]
    Product.objects.bulk_create(Product(merchant=merchant, code=s, name=s) for s in skus)
    return merchant, channel, skus


def plugin_seed(platform: str, merchant, channel, credentials: dict) -> int:
    """The merchant's plugin for ``platform``, importing orders since 30 days ago."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.commerce.models import Plugin

    plugin = Plugin.objects.create(
        merchant=merchant,
        platform=platform,
        name=f"Bench {platform} plugin",
        import_orders=True,
        import_orders_enabled_at=timezone.now() - timedelta(days=30),
        credentials=credentials,
    )
    plugin.channels.set([channel])
    return plugin.pk


def sandbox_seed(merchant, channel, skus: list[str], orders: int, lines: int) -> int:
    """The demo marketplace's store with ``orders`` paid orders, and the merchant's plugin on it."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.platforms.models import SandboxOrder, SandboxStore

    now = timezone.now()
    store = SandboxStore.objects.create(handle="bench", name="Bench store")
    plugin_id = plugin_seed(
        "sandbox", merchant, channel, {"store": store.handle, "access_token": store.access_token}
    )
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
    return plugin_id


def pacing_ceiling(platform: str) -> tuple[float, str]:
    """The most orders/s the plugin's throttle lets through once its burst is spent, and why.

    Read from the client modules' own limits, so a FAIL can be told apart:
    the importer too slow, or the production pacing below the target.
    """
    from apps.platforms import amazon, bigcommerce, ebay, etsy, sandbox, shopify, woocommerce

    if platform == "bigcommerce":
        rate, page = bigcommerce.RATE_PER_SECOND, bigcommerce.PAGE_SIZE
        return rate * page / (page + 1), f"{rate:g} requests/s, one request per order for its products"
    if platform == "amazon":
        items, _burst = amazon.OPERATION_LIMITS[amazon.GET_ORDER_ITEMS]
        pages, _burst = amazon.OPERATION_LIMITS[amazon.GET_ORDERS]
        return min(
            items, pages * amazon.PAGE_SIZE
        ), f"getOrderItems {items:g} requests/s, one request per order"
    module, page = {
        "sandbox": (sandbox, sandbox.PAGE_SIZE),
        "shopify": (shopify, shopify.ORDERS_PAGE_SIZE),
        "woocommerce": (woocommerce, woocommerce.PAGE_SIZE),
        "ebay": (ebay, ebay.PAGE_SIZE),
        "etsy": (etsy, etsy.PAGE_SIZE),
    }[platform]
    return module.RATE_PER_SECOND * page, f"{module.RATE_PER_SECOND:g} requests/s x {page} orders a page"


# --- The import (a child process) -----------------------------------------------


def peak_rss_kb() -> int:
    """This process' own peak resident set size, in kB.

    Linux's VmHWM rather than getrusage's ru_maxrss: Linux carries ru_maxrss
    over an exec, so a child would report its parent's size when that is larger
    (here, the seeding and the stub's rendered orders).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_import(spec: dict) -> None:
    """Child process: one real sync, then report timing and peak RSS as JSON."""
    django_setup()
    from apps.commerce.importing import plugin_sync
    from apps.commerce.models import Plugin

    plugin = Plugin.objects.get(pk=spec["plugin_id"])
    if spec.get("unpaced"):
        from apps.platforms.throttle import Throttle

        # Every token granted at once: the stub never asks us to slow down, so nothing else waits.
        Throttle.acquire = lambda self, cost=1, *, max_wait=2.0: None
    started = time.perf_counter()
    run = plugin_sync(plugin=plugin, mode="manual", time_budget=spec["time_limit"] or None)
    elapsed = time.perf_counter() - started
    peak_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "imported": run.imported,
                "seen": run.seen,
                "outcome": run.outcome,
                "message": run.message,
                "stopped": run.resume_from is not None,
                "seconds": elapsed,
                "peak_kb": peak_kb,
            }
        )
    )


# --- One platform, and the report -------------------------------------------------


def platform_bench(platform: str, args: argparse.Namespace, env: dict[str, str]) -> dict:
    """Seed ``platform``'s merchant (and start its stub), import in a child process; the child's figures."""
    from django.db import connections

    from apps.platforms.registry import provider

    print(f"\n[{platform}] {provider(platform).label}", flush=True)
    merchant, channel, skus = catalog_seed(platform)
    stub: PlatformStub | None = None
    if platform == "sandbox":
        print(f"seeding {args.orders} orders with {args.lines} lines each ...", flush=True)
        plugin_id = sandbox_seed(merchant, channel, skus, args.orders, args.lines)
    else:
        print(f"rendering {args.orders} orders with {args.lines} lines each on a local stub ...", flush=True)
        stub = STUBS[platform](bench_orders(args.orders, args.lines, skus)).start()
        plugin_id = plugin_seed(platform, merchant, channel, stub.credentials(stub.url))
    connections.close_all()
    spec = {"plugin_id": plugin_id, "time_limit": args.time_limit, "unpaced": args.unpaced}
    # Enough for the import's setup and the page under way when the time budget ends.
    timeout = args.time_limit + 600 if args.time_limit else 86_400
    try:
        result = run_child(Path(__file__), platform, spec, env, timeout)
    except BenchError as exc:
        result = {"error": str(exc)}
    finally:
        if stub is not None:
            stub.stop()
    result["requests"] = dict(stub.requests) if stub is not None else {}
    result["ceiling"] = pacing_ceiling(platform)
    return result


def per_second(rate: float) -> str:
    """A rate for the report: whole numbers, but a tenth where a slow platform would show 0 or 1."""
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"


def passed(result: dict, orders: int) -> bool:
    if "error" in result:
        return False
    rate = result["imported"] / result["seconds"]
    return result["imported"] == orders and rate >= TARGET_RATE and result["peak_kb"] / 1024 < TARGET_RSS_MB


def report(result: dict, args: argparse.Namespace) -> None:
    """The platform's figures, one per line."""
    if "error" in result:
        print(f"FAIL: {result['error']}")
        return
    rate = result["imported"] / result["seconds"]
    peak_mb = result["peak_kb"] / 1024
    counted = f"{result['imported']} of {result['seen']} orders imported"
    if result["seen"] != args.orders:
        counted += f"; {args.orders} on the store"
    if result["stopped"]:
        counted += f"; stopped by the {args.time_limit:g} s time limit"
    print(f"outcome          {result['outcome']} ({counted})")
    if result["outcome"] != "succeeded":
        print(f"                 {result['message']}")
    print(f"time             {result['seconds']:.2f} s")
    print(
        f"orders/s         {per_second(rate)}   (target >= {TARGET_RATE}: {'PASS' if rate >= TARGET_RATE else 'FAIL'})"
    )
    print(
        f"peak RSS         {peak_mb:.0f} MB (target < {TARGET_RSS_MB} MB: "
        f"{'PASS' if peak_mb < TARGET_RSS_MB else 'FAIL'})"
    )
    ceiling, why = result["ceiling"]
    print(f"pacing ceiling   {per_second(ceiling)} orders/s ({why})")
    if result["requests"]:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(result["requests"].items()))
        print(f"stub requests    {sum(result['requests'].values())} ({kinds})")


def summary(results: dict[str, dict], orders: int) -> str:
    """One line with every platform's figures."""
    parts = []
    for platform, result in results.items():
        if "error" in result:
            parts.append(f"{platform} error FAIL")
            continue
        rate = result["imported"] / result["seconds"]
        parts.append(
            f"{platform} {result['imported']}/{orders} {per_second(rate)}/s {result['peak_kb'] / 1024:.0f} MB "
            f"{'PASS' if passed(result, orders) else 'FAIL'}"
        )
    return "summary: " + " | ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--platform",
        type=platform_list,
        default=("sandbox",),
        help=f"all, or some of {', '.join(PLATFORMS)} separated by commas (default: sandbox)",
    )
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=2, help="lines per order")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=180,
        help="seconds each import may fetch before the importer's time budget ends it (0: no limit)",
    )
    parser.add_argument(
        "--unpaced",
        action="store_true",
        help="take the plugins' throttles out: what the clients and the importer manage, "
        "without the pacing at the platforms' published limits",
    )
    parser.add_argument("--db-name", type=database_name, help="PostgreSQL database (created and dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_import(json.loads(args.spec))
        return 0

    db_name = args.db_name or (DB_NAME if args.platform == ("sandbox",) else PLATFORMS_DB_NAME)
    env = bench_env(db_name)
    os.environ.update(env)
    database_recreate(db_name)
    results: dict[str, dict] = {}
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        django_setup()
        for platform in args.platform:
            results[platform] = platform_bench(platform, args, env)
            report(results[platform], args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(db_name)

    print()
    print(("unpaced " if args.unpaced else "") + summary(results, args.orders))
    return 0 if all(passed(result, args.orders) for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
