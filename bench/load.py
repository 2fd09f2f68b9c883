"""Benchmark: merchants press "Check every step" while slow syncs fill the bulk queue and readers load the article.

Three scenarios (``--scenario``; all by default, one after the other):

* burst: 25 merchants press at once (``--merchants``). Targets, measured while
  all of it runs at once: per-merchant "Check every step" completion p95 <=
  2 s; click-to-result of a single database-only check (Step 1) p95 <= 400 ms;
  anonymous (cached) article p99 <= 50 ms; no run left queued or running
  afterwards; no 5xx answer.
* open-loop: diagnoses arrive as a Poisson process, 8 a second for 60 s
  (``--rate``, ``--duration``); p95 from arrival to the summary's end <= 2 s,
  and the stack's CPU per diagnosis <= 50 ms.
* slow-quarter: the same arrivals, a quarter of them on a Shopify store that
  answers after 8 s; the other merchants' p95 within 20% of open-loop's.

Steps 1-4 and 6-7 below are shared; step 5 is the burst's.

What it does, all on 127.0.0.1 and nothing else:

1. drops and creates a fresh PostgreSQL database (``kitty_bench_load``);
   Redis db 4 is the Celery broker (it must be empty or hold only Celery's
   keys) and db 5 the cache, under a key prefix of its own;
2. runs ``migrate``, ``collectstatic`` and ``demo_setup`` (the article and the
   demo merchant ``merchant``), then, in a Django child process, creates the
   merchants the scenarios need (``bench-merchant-NN``), each with a plugin
   on a demo marketplace store of its own holding paid orders #1001 and
   #1002, synced once; for slow-quarter, merchants (``bench-slow-NN``) on the
   slow quarter's store; and a merchant with two Shopify plugins on a slow
   store: a local server, started by this script, that answers each page of orders
   only after ``--page-seconds`` (8 s);
3. starts the production-shaped stack, as docker-compose.yml runs it: gunicorn
   (DEBUG=0, 2 gthread workers x 4 threads by default, ``--no-control-socket``),
   a second gunicorn for "Check every step" and its polls (one process,
   ``--diagnoses-workers``, as compose's ``WEB_CONCURRENCY`` gives it, at
   ``--diagnoses-nice`` 3: about half the CPU weight of the rest, as
   ``cpu_shares: 512`` gives it in compose), the nginx front of deploy/nginx in front of both
   (``--front none``: straight to gunicorn), and one Celery worker per lane
   (clicks ``--concurrency=8`` and interactive ``--concurrency=16`` threads,
   bulk ``--concurrency=2`` processes);
4. queues, as beat would, a sync of both slow plugins and ``sync_all_plugins``
   (52 more syncs), and waits until both bulk processes are held by the slow
   syncs: the bulk queue is saturated from here on;
5. all at once:

   * ``wrk -t1 -c4`` (``apt-get install -y wrk``; else an asyncio reader
     with ``--readers`` connections) reads /help/order-did-not-import/
     anonymously at ``--article-rate`` reads/s (200; 0: as fast as answered),
     from a second before the merchants press until the last click below
     has its result;
   * the 50 merchants, each signed in over HTTP, press "Check every step" at
     the same moment: POST /checks/start/ with ``all=1`` (their plugin,
     order #1001), then follow the summary's ``hx-get`` after the delay its
     ``hx-trigger`` names, as htmx does, until
     ``data-summary-status="done"`` (``--rounds`` times each);
   * the demo merchant clicks Step 1's "Check this now" (Main store, #1001)
     and follows the widget to its result, one click after another, until
     the merchants are done (at least three clicks), from a process of its
     own: a person's browser does not wait on fifty others' client work;

   each browser keeps its connection to the nginx front open, as browsers do
   (straight to gunicorn, ``--front none``, it opens one per request);

6. waits up to ``--settle`` seconds for runs still in flight, counts the runs
   left queued or running, prints the figures, the last line holding them
   all, and PASS/FAIL; among them the CPU time each part of the stack
   (each gunicorn, each worker, nginx, PostgreSQL, Redis, this script's
   clients) spent while the merchants ran, and how busy that kept the
   machine's cores: near 100% busy, the targets wait on the machine, not on
   a queue or a lock;
7. stops everything, drops the database and deletes its Redis keys (unless
   ``--keep``).

Run from the repository root::

    uv run python bench/load.py
    uv run python bench/load.py --scenario open-loop,slow-quarter --worker-processes 2
    uv run python bench/load.py --gunicorn-threads 1    # sync gunicorn workers, as before

Exit status: 0 on PASS, 1 on FAIL, 2 when the set-up or a sanity check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import math
import multiprocessing
import os
import queue
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from article_page import WRK_REPORT_LUA, WrkResult
from checks import (
    broker_db_claim,
    broker_keys_delete,
    last_run_id,
    pct,
    runs_between,
    shown_diagnosis,
    summary_state,
    task_breakdown,
    throttle_keys,
    widget_state,
)
from stack import (
    HOST,
    REDIS_PORT,
    REPO,
    BenchError,
    add_stack_arguments,
    cache_keys_delete,
    celery_workers_start,
    database_drop,
    database_recreate,
    django_setup,
    free_port,
    gunicorn_start,
    log,
    machine_cpu_seconds,
    manage,
    pg_connect,
    process_stop,
    redis_client,
    run_child,
    server_environment,
    wait_until_serving,
)

sys.path.insert(0, str(REPO))
from deploy import nginx_local  # noqa: E402  (the production front, deploy/nginx)

ARTICLE_PATH = "/help/order-did-not-import/"
PASSWORD = "bench-merchant-pass"
PROBE_USER, PROBE_PASSWORD = "merchant", "kitty-merchant"
PROBE_PLUGIN = "Demo Marketplace – Main store"
ORDER_NUMBER = "1001"
STEP_1_KEY = "import_orders_enabled"
FINAL = {"passed", "failed", "unknown"}

TARGETS = {
    "every_step_p95_ms": 2000.0,
    "click_p95_ms": 400.0,
    "article_p99_ms": 50.0,
    "open_loop_p95_ms": 2000.0,
    "cpu_per_diagnosis_ms": 50.0,
}
# With a slow platform under a quarter of the merchants, the others' p95 stays within this of open-loop's.
SLOW_QUARTER_MARGIN = 0.2

SCENARIOS = ("burst", "open-loop", "slow-quarter")


def scenario_list(value: str) -> list[str]:
    """An argparse ``type``: ``all`` or scenarios separated by commas, in the order they run."""
    wanted = set(SCENARIOS) if value == "all" else {name.strip() for name in value.split(",")}
    unknown = wanted - set(SCENARIOS)
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SCENARIOS)} or all")
    if "slow-quarter" in wanted:
        wanted.add("open-loop")  # its healthy merchants are judged against open-loop's figure
    return [name for name in SCENARIOS if name in wanted]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Load the production-shaped stack: merchants running "Check every step" at once (burst), '
            "arriving as a Poisson process (open-loop), a quarter of them on a slow platform "
            "(slow-quarter); slow syncs saturating the bulk queue; anonymous article reads. "
            "Talks to 127.0.0.1 only."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        dest="scenarios",
        type=scenario_list,
        default="all",
        help="burst, open-loop, slow-quarter (which needs open-loop's figure, so runs it too), "
        "several separated by commas, or all",
    )
    parser.add_argument(
        "--merchants", type=int, default=25, help='burst: merchants pressing "Check every step" at once'
    )
    parser.add_argument("--rounds", type=int, default=1, help='"Check every step" rounds per merchant')
    parser.add_argument("--page-seconds", type=float, default=8.0, help="the slow store's delay per page")
    parser.add_argument(
        "--interactive-concurrency",
        type=int,
        default=16,
        help='interactive worker threads ("Check every step"; its pool is threads)',
    )
    parser.add_argument(
        "--click-concurrency",
        type=int,
        default=8,
        help="clicks worker threads (one step's check; its pool is threads)",
    )
    parser.add_argument("--bulk-concurrency", type=int, default=2, help="bulk worker processes")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (-t)")
    parser.add_argument("--readers", type=int, default=4, help="anonymous reader connections (wrk -c)")
    parser.add_argument(
        "--article-rate",
        type=float,
        default=200.0,
        help="anonymous article reads per second, all readers together (0: as fast as they can)",
    )
    parser.add_argument("--rate", type=float, default=8.0, help="open loop: diagnoses arriving a second")
    parser.add_argument("--duration", type=float, default=60.0, help="open loop: seconds of arrivals")
    parser.add_argument("--seed", type=int, default=21, help="open loop: the arrivals' random seed")
    parser.add_argument(
        "--pool",
        type=int,
        default=0,
        help="open loop: signed-in merchants taking the arrivals, one diagnosis at a time each "
        "(0: enough for 4 s of arrivals)",
    )
    parser.add_argument(
        "--slow-fraction",
        type=float,
        default=0.25,
        help="slow-quarter: share of arrivals on the slow platform",
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=8.0,
        help="slow-quarter: seconds the slow platform takes to answer",
    )
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=1,
        help="interactive Celery workers, each a process of its own as on a machine of its own",
    )
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to wait for runs in flight")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one round may take")
    add_stack_arguments(parser, db_name="kitty_bench_load", redis_db=5, broker_db=4)
    parser.add_argument(
        "--front",
        choices=["nginx", "none"],
        default="nginx",
        help="nginx: every request through the production front (deploy/nginx); none: straight to gunicorn",
    )
    parser.add_argument(
        "--diagnoses-workers",
        type=int,
        default=1,
        help='gunicorn worker processes of their own for "Check every step" and its polls (with --front nginx)',
    )
    parser.add_argument(
        "--diagnoses-nice",
        type=int,
        default=3,
        help="their nice value: 3 weighs them about half the rest, as cpu_shares: 512 does in docker-compose.yml",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, the Redis keys and the logs afterwards"
    )
    parser.add_argument("--child", choices=["setup", "saturate"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.broker_db == args.redis_db:
        parser.error("--broker-db and --redis-db must differ")
    if args.merchants < 1 or args.rounds < 1:
        parser.error("--merchants and --rounds must be at least 1")
    # Every loop is bounded: so many arrivals, for so long, from so many merchants.
    if not 0 < args.rate <= 50 or not 0 < args.duration <= 600 or not 0 <= args.pool <= 200:
        parser.error("--rate must be in (0, 50], --duration in (0, 600] and --pool in [0, 200]")
    if not 0 < args.slow_fraction < 1 or not 0 < args.slow_seconds <= 20:
        parser.error("--slow-fraction must be in (0, 1) and --slow-seconds in (0, 20]")
    if not 1 <= args.worker_processes <= 4 or args.merchants > 200:
        parser.error("--worker-processes must be 1 to 4 and --merchants at most 200")
    open_loop = {"open-loop", "slow-quarter"} & set(args.scenarios)
    # A merchant presses again only once their last diagnosis has ended: enough of them for 4 s of arrivals
    # (a slow one's diagnosis takes the platform's answer and as long again).
    args.healthy_pool = (args.pool or math.ceil(args.rate * 4) + 4) if open_loop else 0
    args.slow_pool = (
        args.pool or math.ceil(args.rate * args.slow_fraction * (args.slow_seconds + 4)) + 4
        if "slow-quarter" in args.scenarios
        else 0
    )
    return args


# --- The slow store ---------------------------------------------------------


class SlowStore:
    """A Shopify store on 127.0.0.1 whose answers about orders take ``page_seconds``.

    Every page of orders (25 paid orders a page, always another page) comes
    after ``page_seconds``, and so does the one order a diagnosis asks for
    (``name:#1001``: a paid order of the catalog's SKU). The authorization
    query is answered at once, unless ``every_answer``: then it waits too, a
    platform slow in all it says.
    """

    def __init__(self, page_seconds: float, *, every_answer: bool = False):
        released = self.released = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                variables = body.get("variables") or {}
                cost = {
                    "cost": {
                        "requestedQueryCost": 2,
                        "actualQueryCost": 2,
                        "throttleStatus": {
                            "maximumAvailable": 2000.0,
                            "currentlyAvailable": 1998,
                            "restoreRate": 100,
                        },
                    }
                }
                if "query" not in variables:
                    if every_answer:
                        released.wait(page_seconds)
                    data = {"shop": {"name": "Slow store"}, "orders": {"nodes": []}}
                elif (name := re.fullmatch(r"name:#(\d+)", variables["query"] or "")) is not None:
                    released.wait(page_seconds)
                    data = {
                        "orders": {
                            "pageInfo": {"hasNextPage": False, "endCursor": None},
                            "nodes": [_slow_order(int(name.group(1)), name=f"#{name.group(1)}")],
                        }
                    }
                else:
                    released.wait(page_seconds)
                    start = int(variables.get("after") or 0)
                    data = {
                        "orders": {
                            "pageInfo": {"hasNextPage": not released.is_set(), "endCursor": str(start + 25)},
                            "nodes": [_slow_order(start + n) for n in range(25)],
                        }
                    }
                payload = json.dumps({"data": data, "extensions": cost}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                try:
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (its read timeout): nobody is left to answer

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def _slow_order(n: int, *, name: str = "") -> dict:
    placed = datetime.now(UTC) - timedelta(days=5) + timedelta(seconds=n)
    return {
        "id": f"gid://shopify/Order/{900000 + n}",
        "name": name or f"#S{n}",
        "createdAt": placed.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "risk": {"recommendation": "ACCEPT"},
        "email": "slow@example.com",
        "currencyCode": "USD",
        "totalPriceSet": {"shopMoney": {"amount": "24.00", "currencyCode": "USD"}},
        "customer": {"firstName": "Slow", "lastName": "Buyer"},
        "shippingAddress": {
            "firstName": "Slow",
            "lastName": "Buyer",
            "address1": "1 Slow Lane",
            "city": "Portland",
            "zip": "97201",
            "countryCodeV2": "US",
        },
        "billingAddress": None,
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [
                {
                    "sku": "MUG-BLUE-001" if name else "SLOW-1",
                    "title": "Blue mug" if name else "Slow thing",
                    "quantity": 1,
                    "currentQuantity": 1,
                }
            ],
        },
    }


# --- Children: Django processes --------------------------------------------


def child_setup(spec: dict) -> dict:
    """Create the merchants, their plugins and stores, and the slow store's merchant."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.commerce.importing import plugin_sync
    from apps.commerce.models import Channel, Membership, Merchant, Plugin, Product
    from apps.platforms.models import SandboxOrder, SandboxStore

    user_model = get_user_model()
    now = timezone.now()
    password = make_password(PASSWORD)  # hashed once: 50 hashes would take longer than the bench
    usernames = []
    for n in range(spec["merchants"]):
        username = f"bench-merchant-{n:02d}"
        user = user_model.objects.create(username=username, password=password)
        merchant = Merchant.objects.create(name=f"Bench merchant {n:02d}")
        Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
        Product.objects.create(merchant=merchant, code="MUG-BLUE-001", name="Blue mug")
        channel = Channel.objects.create(merchant=merchant, name="Web store", code="web")
        store = SandboxStore.objects.create(handle=f"bench-store-{n:02d}", name=f"Bench store {n:02d}")
        plugin = Plugin.objects.create(
            merchant=merchant,
            platform="sandbox",
            name=f"Demo Marketplace – Bench store {n:02d}",
            import_orders=True,
            import_orders_enabled_at=now - timedelta(days=30),
            credentials={"store": store.handle, "access_token": store.access_token},
        )
        plugin.channels.set([channel])
        SandboxOrder.objects.bulk_create(
            SandboxOrder(
                store=store,
                number=number,
                placed_at=now - timedelta(days=2),
                status="paid",
                lines=[{"sku": "MUG-BLUE-001", "quantity": 1, "title": "Blue mug"}],
                email="buyer@example.com",
                first_name="Bench",
                last_name=f"Buyer {number}",
                address_line1="1 Catnip Lane",
                city="Portland",
                postcode="97201",
                country="US",
                currency="USD",
                total=Decimal("24.00"),
            )
            for number in ("1001", "1002")
        )
        plugin_sync(plugin=plugin, mode="scheduled")
        usernames.append(username)

    slow_merchant = Merchant.objects.create(name="Slow store merchant")
    channel = Channel.objects.create(merchant=slow_merchant, name="Web store", code="web")
    slow_ids = []
    for n in range(2):
        plugin = Plugin.objects.create(
            merchant=slow_merchant,
            platform="shopify",
            name=f"Shopify – Slow store {n + 1}",
            import_orders=True,
            import_orders_enabled_at=now - timedelta(days=30),
            credentials={"shop": "slow-store", "access_token": "shpat_slow", "base_url": spec["slow_url"]},
        )
        plugin.channels.set([channel])
        slow_ids.append(plugin.pk)

    # The slow quarter: merchants whose one plugin is on a Shopify store that answers after seconds.
    slow_usernames = []
    for n in range(spec["slow_merchants"]):
        username = f"bench-slow-{n:02d}"
        user = user_model.objects.create(username=username, password=password)
        merchant = Merchant.objects.create(name=f"Bench slow merchant {n:02d}")
        Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
        Product.objects.create(merchant=merchant, code="MUG-BLUE-001", name="Blue mug")
        channel = Channel.objects.create(merchant=merchant, name="Web store", code="web")
        plugin = Plugin.objects.create(
            merchant=merchant,
            platform="shopify",
            name=f"Shopify – Slow shop {n:02d}",
            import_orders=True,
            import_orders_enabled_at=now - timedelta(days=30),
            credentials={
                "shop": f"bench-slow-{n:02d}",
                "access_token": "shpat_slow",
                "base_url": spec["quarter_url"],
            },
        )
        plugin.channels.set([channel])
        slow_usernames.append(username)
    return {"usernames": usernames, "slow_plugin_ids": slow_ids, "slow_usernames": slow_usernames}


def child_saturate(spec: dict) -> dict:
    """Queue, as beat would, the slow plugins' syncs and a sync of every plugin; wait until both
    bulk processes are held by the slow ones."""
    from apps.commerce.models import SyncRun
    from apps.commerce.tasks import sync_all_plugins, sync_plugin

    for plugin_id in spec["slow_plugin_ids"]:
        sync_plugin.delay(plugin_id, SyncRun.Mode.SCHEDULED)
    sync_all_plugins.delay()
    deadline = time.monotonic() + 60
    running = SyncRun.objects.filter(plugin_id__in=spec["slow_plugin_ids"], finished_at__isnull=True)
    while running.count() < len(spec["slow_plugin_ids"]):
        if time.monotonic() > deadline:
            raise SystemExit("the slow syncs did not start within 60 s: is the bulk worker up?")
        time.sleep(0.1)
    return {"running": running.count()}


def child_main(kind: str, spec: dict) -> int:
    django_setup()
    result = child_setup(spec) if kind == "setup" else child_saturate(spec)
    print(json.dumps(result))
    return 0


def child(kind: str, spec: dict, env: dict[str, str], timeout: float) -> dict:
    return run_child(Path(__file__), kind, spec, env, timeout)


# --- Merchants' browsers ----------------------------------------------------


@dataclass
class Tally:
    """What every client saw: answers by status class."""

    server_errors: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)


class AsyncBrowser:
    """An htmx-like async client keeping its own cookies (with DEBUG=0 they are Secure; this is http).

    ``keep_alive``: reuse its connection, as a browser does with the nginx
    front. Straight to gunicorn it opens a connection per request: gunicorn
    closes idle kept-alive ones after 2 s, and a request sent on one as it
    closes fails (ReadError) where a browser would quietly send it again.
    """

    def __init__(self, base_url: str, tally: Tally, timeout: float, *, keep_alive: bool = False):
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=1 if keep_alive else 0),
        )
        self.cookies: dict[str, str] = {}
        self.tally = tally

    async def close(self) -> None:
        await self.client.aclose()

    def _headers(self, htmx: bool) -> dict[str, str]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            # As htmx sends them: the answer speaks the language of the page it goes into.
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = str(self.client.base_url.join(ARTICLE_PATH))
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        return headers

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.tally.requests += 1
        if response.status_code >= 500:
            self.tally.server_errors += 1
        for raw in response.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.client.cookies.clear()
        return response

    async def get(self, path: str, *, htmx: bool = False) -> httpx.Response:
        return self._keep(await self.client.get(path, headers=self._headers(htmx)))

    async def post(self, path: str, data: dict, *, htmx: bool = False) -> httpx.Response:
        return self._keep(await self.client.post(path, data=data, headers=self._headers(htmx)))


@dataclass
class Merchant:
    browser: AsyncBrowser
    page_id: str = ""
    subject_id: str = ""
    step_1_block: str = ""
    every_step_url: str = ""  # where the page's "Check every step" button posts (its hx-post)
    shown: str = ""  # the diagnosis the page shows, sent with each start as htmx does (``shown_diagnosis``)
    rounds_ms: list[float] = field(default_factory=list)
    rounds_polls: list[int] = field(default_factory=list)  # the summary's looks after each press


async def sign_in_and_read(
    browser: AsyncBrowser, username: str, password: str, plugin_name: str | None
) -> Merchant:
    await browser.get("/accounts/login/")
    token = browser.cookies.get("csrftoken", "")
    response = await browser.post(
        "/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": ARTICLE_PATH},
    )
    if response.status_code != 302 or "sessionid" not in browser.cookies:
        raise BenchError(f"signing in as {username} answered {response.status_code}")
    body = (await browser.get(ARTICLE_PATH)).text
    page = re.search(r'<input type="hidden" name="page" value="(\d+)"', body)
    select = re.search(r'<select[^>]*name="subject"[^>]*>(.*?)</select>', body, re.S)
    if not page or not select:
        raise BenchError(f"{ARTICLE_PATH} shows {username} no check panel")
    options = {
        html.unescape(label).strip(): value
        for value, label in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select.group(1))
    }
    subject = options.get(plugin_name) if plugin_name else next(iter(options.values()), None)
    steps = dict(re.findall(r'id="check-([^"]+)" data-check-status="[^"]*" data-check-key="([^"]+)"', body))
    step_1 = [block for block, key in steps.items() if key == STEP_1_KEY]
    every_step = re.search(r'<button[^>]*id="check-every-step"[^>]*hx-post="([^"]+)"', body, re.S)
    if not subject or len(step_1) != 1 or not every_step:
        raise BenchError(f"{username}: no plugin to check ({sorted(options)}), Step 1 or 'Check every step'")
    return Merchant(
        browser,
        page.group(1),
        subject,
        step_1[0],
        html.unescape(every_step.group(1)),
        shown=shown_diagnosis(body),
    )


async def follow(merchant: Merchant, first: httpx.Response, read, done, deadline: float) -> tuple[str, int]:
    """Poll as htmx would: wait the trigger's delay, GET the hx-get URL, until ``done(status)``.

    Returns the final status and how many looks (GETs) it took. The merchant's ``shown`` follows what
    each answer puts on the page.
    """
    if first.status_code != 200:
        raise BenchError(f"POST {first.request.url.path} answered {first.status_code}:\n{first.text[:500]}")
    state = read(first.text)
    merchant.shown = shown_diagnosis(first.text, merchant.shown)
    looks = 0
    while not done(state.status):
        if not state.url or time.perf_counter() > deadline:
            raise BenchError(f"still {state.status!r} after the round's timeout ({state.url})")
        await asyncio.sleep(state.delay_ms / 1000)
        response = await merchant.browser.get(state.url, htmx=True)
        looks += 1
        if response.status_code != 200:
            raise BenchError(f"GET {state.url} answered {response.status_code}")
        state = read(response.text)
        merchant.shown = shown_diagnosis(response.text, merchant.shown)
    return state.status, looks


async def check_every_step(merchant: Merchant, timeout: float, started: float | None = None) -> float:
    """One press of "Check every step" followed to the summary's end: milliseconds from ``started``
    (a ``perf_counter`` time; by default the press), the round's deadline ``timeout`` seconds after it."""
    data = {
        "page": merchant.page_id,
        "subject": merchant.subject_id,
        "order_number": ORDER_NUMBER,
        "shown": merchant.shown,
        "all": "1",
    }
    started = time.perf_counter() if started is None else started
    response = await merchant.browser.post(merchant.every_step_url, {**data, "placed_date": ""}, htmx=True)
    _, looks = await follow(merchant, response, summary_state, lambda s: s == "done", started + timeout)
    merchant.rounds_polls.append(looks)
    return (time.perf_counter() - started) * 1000


@dataclass
class Click:
    """One Step 1 click followed to its result: the whole, the press's answer, and the looks after it."""

    ms: float
    status: str
    press_ms: float
    looks: int


async def click_step_1(merchant: Merchant, timeout: float) -> Click:
    data = {
        "page": merchant.page_id,
        "subject": merchant.subject_id,
        "order_number": ORDER_NUMBER,
        "placed_date": "",
        "shown": merchant.shown,
        "block_id": merchant.step_1_block,
    }
    started = time.perf_counter()
    response = await merchant.browser.post("/checks/start/", data, htmx=True)
    answered = time.perf_counter()
    status, looks = await follow(
        merchant,
        response,
        lambda body: widget_state(body, merchant.step_1_block),
        lambda s: s in FINAL,
        started + timeout,
    )
    return Click((time.perf_counter() - started) * 1000, status, (answered - started) * 1000, looks)


async def merchant_rounds(merchant: Merchant, rounds: int, timeout: float) -> None:
    for _ in range(rounds):
        merchant.rounds_ms.append(await check_every_step(merchant, timeout))


def probe_process(base_url: str, timeout: float, keep_alive: bool, go, stop, out) -> None:
    """The demo merchant's browser, in a process of its own: Step 1 clicks while the merchants run.

    A person's browser does not share an event loop with fifty others: in the
    merchants' process a click's answer would wait for their clients' own
    work. Signs in, clicks once unmeasured, puts ``("ready",)`` on ``out``,
    then clicks one after the other from ``go`` until ``stop`` (at least
    three), and puts ``("clicks", [Click…], requests, 5xx)`` (or ``("error", why)``).
    """
    try:
        out.put(asyncio.run(_probe(base_url, timeout, keep_alive, go, stop, out)))
    except BenchError as exc:
        out.put(("error", str(exc)))
    except Exception as exc:  # anything else still ends the bench with a reason
        out.put(("error", f"{exc.__class__.__name__}: {exc}"))


async def _probe(base_url: str, timeout: float, keep_alive: bool, go, stop, out) -> tuple:
    tally = Tally()
    browser = AsyncBrowser(base_url, tally, timeout, keep_alive=keep_alive)
    try:
        probe = await sign_in_and_read(browser, PROBE_USER, PROBE_PASSWORD, PROBE_PLUGIN)
        await click_step_1(probe, timeout)
        out.put(("ready",))
        await asyncio.to_thread(go.wait)
        tally.requests = tally.server_errors = 0
        clicks: list[Click] = []
        while not stop.is_set() or len(clicks) < 3:
            click = await click_step_1(probe, timeout)
            if click.status != "passed":
                raise BenchError(f"Step 1 for {PROBE_PLUGIN} should pass, but it is {click.status!r}")
            clicks.append(click)
        return ("clicks", clicks, tally.requests, tally.server_errors)
    finally:
        await browser.close()


async def probe_result(out, timeout: float) -> tuple:
    """The probe's next message (an error becomes a BenchError)."""
    try:
        message = await asyncio.to_thread(out.get, True, timeout)
    except queue.Empty:
        raise BenchError(f"the clicking browser said nothing for {timeout:.0f} s") from None
    if message[0] == "error":
        raise BenchError(message[1])
    return message


# --- Anonymous readers ------------------------------------------------------


def reader_pause_ms(connections: int, rate: float) -> float:
    """How long each reader waits between its reads so that all of them read ``rate`` times a second."""
    return connections * 1000 / rate if rate > 0 else 0.0


async def wrk_reader(
    url: str, stop: asyncio.Event, threads: int, connections: int, workdir: Path, rate: float
) -> WrkResult:
    """wrk on ``url`` until ``stop`` is set (SIGINT: wrk then prints its figures as at its end).

    With a ``rate``, each connection pauses between reads (wrk's ``delay()``),
    so the readers ask at that rate instead of as fast as the server answers;
    the pause is not part of the latencies wrk reports.
    """
    script = workdir / "report.lua"
    pause = reader_pause_ms(connections, rate)
    script.write_text(WRK_REPORT_LUA + (f"delay = function() return {pause:.3f} end\n" if pause else ""))
    process = await asyncio.create_subprocess_exec(
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        "-d600s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await stop.wait()
    process.send_signal(signal.SIGINT)
    stdout, stderr = await process.communicate()
    match = re.search(r"^BENCH_JSON (\{.*\})$", stdout.decode(), re.MULTILINE)
    if process.returncode != 0 or not match:
        raise BenchError(f"wrk failed (exit {process.returncode}): {stderr.decode() or stdout.decode()}")
    return WrkResult(**json.loads(match.group(1)))


async def asyncio_reader(
    base_url: str, stop: asyncio.Event, connections: int, tally: Tally, rate: float
) -> list[float]:
    """Without wrk: ``connections`` loops reading the article, each on its own connection, at ``rate`` in all.

    They share this process with the merchants' clients, so their latencies include its event loop's lag.
    """
    latencies: list[float] = []

    async def loop() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=5, trust_env=False) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = await client.get(ARTICLE_PATH)
                latencies.append((time.perf_counter() - started) * 1000)
                tally.requests += 1
                if response.status_code >= 500:
                    tally.server_errors += 1
                await asyncio.sleep(pause)

    pause = reader_pause_ms(connections, rate) / 1000
    await asyncio.gather(*(loop() for _ in range(connections)))
    return latencies


# --- The load ---------------------------------------------------------------

# Parts of the CPU tally that are not the stack's: the load's own clients, the host's other work and,
# PostgreSQL and Redis being shared, the other databases' sessions with PostgreSQL's background
# processes, and Redis servers on other ports.
CLIENTS = "the bench's clients"
POSTGRESQL_REST = "PostgreSQL's other sessions and background"
REDIS_REST = "other Redis servers"
NOT_THE_STACK = {CLIENTS, "other", POSTGRESQL_REST, REDIS_REST}
# A PostgreSQL session's process title: "postgres: [cluster: ]user database host(port) state".
_SESSION_TITLE = re.compile(rb"postgres: (?:\S+: )?\S+ (\S+) ")


def services_cpu_seconds(dbname: str, redis_port: int) -> tuple[float, float]:
    """CPU time so far of the PostgreSQL sessions on ``dbname`` (the stack's persistent connections)
    and of the Redis server on ``redis_port``."""
    postgresql = redis = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        session = _SESSION_TITLE.match(title)
        if session and session.group(1).decode(errors="replace") == dbname:
            postgresql += seconds
        elif title.startswith(b"redis-server ") and title.split(b"\0")[0].endswith(f":{redis_port}".encode()):
            redis += seconds
    return postgresql, redis


def cpu_reading(roots: dict[str, int], dbname: str) -> dict[str, float]:
    """``machine_cpu_seconds`` with the shared services told apart: the sessions on the bench's database
    count as "PostgreSQL" and the bench's Redis server as "Redis"; the rest of each is not the stack's."""
    reading = machine_cpu_seconds(roots)
    if reading:
        postgresql, redis = services_cpu_seconds(dbname, REDIS_PORT)
        reading[POSTGRESQL_REST] = reading.pop("PostgreSQL", 0.0) - postgresql
        reading["PostgreSQL"] = postgresql
        reading[REDIS_REST] = reading.pop("Redis", 0.0) - redis
        reading["Redis"] = redis
    return reading


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU-seconds each part spent between two ``machine_cpu_seconds`` readings, the largest first."""
    spent = {name: round(seconds - before.get(name, 0.0), 2) for name, seconds in after.items()}
    return dict(sorted(spent.items(), key=lambda item: -item[1]))


def cpu_per_diagnosis_ms(cpu: dict[str, float], diagnoses: int) -> dict[str, float]:
    """Milliseconds of CPU per diagnosis: the stack's (web, workers, nginx, PostgreSQL, Redis) and with the
    bench's own clients too. The host's other processes ("other") count in neither."""
    stack = sum(seconds for name, seconds in cpu.items() if name not in NOT_THE_STACK)
    clients = cpu.get(CLIENTS, 0.0)
    per = max(diagnoses, 1)
    return {"stack": stack * 1000 / per, "with_clients": (stack + clients) * 1000 / per}


async def sign_in_all(browsers: list[AsyncBrowser], usernames: list[str]) -> list[Merchant]:
    merchants: list[Merchant] = []
    for chunk in range(0, len(usernames), 10):  # a few at a time: sign-in hashes a password
        merchants += await asyncio.gather(
            *(
                sign_in_and_read(browsers[n], usernames[n], PASSWORD, None)
                for n in range(chunk, min(chunk + 10, len(usernames)))
            )
        )
    return merchants


async def load(
    args: argparse.Namespace, base_url: str, made: dict, workdir: Path, roots: dict[str, int]
) -> dict[str, dict]:
    """Sign every merchant in, then run the scenarios one after the other: ``{scenario: figures}``.

    ``roots``: the processes the bench started, by name, to tell where the CPU went.
    """
    tally = Tally()
    keep_alive = args.front == "nginx"
    usernames = made["usernames"] + made["slow_usernames"]
    browsers = [AsyncBrowser(base_url, tally, args.timeout, keep_alive=keep_alive) for _ in usernames]
    roots = {**roots, CLIENTS: os.getpid()}  # the merchants, the probe, the readers and the slow stores
    figures: dict[str, dict] = {}
    try:
        log(f"signing in {len(usernames)} merchants")
        merchants = await sign_in_all(browsers, usernames)
        healthy, slow = merchants[: len(made["usernames"])], merchants[len(made["usernames"]) :]
        # One unmeasured round of a few: every process has its connections and templates warm.
        await asyncio.gather(*(check_every_step(m, args.timeout) for m in [*healthy[:4], *slow[:1]]))
        for scenario in args.scenarios:
            tally.requests = tally.server_errors = 0
            first_run = await asyncio.to_thread(last_run_id, args.db_name)
            if scenario == "burst":
                result = await burst(args, base_url, healthy[: args.merchants], tally, workdir, roots)
                result["slow_syncs_running"] = await asyncio.to_thread(
                    slow_syncs_running, args.db_name, made["slow_plugin_ids"]
                )
            else:
                fraction = args.slow_fraction if scenario == "slow-quarter" else 0.0
                result = await open_loop(args, healthy, slow if fraction else [], fraction, tally, roots)
            result["left_in_flight"] = await asyncio.to_thread(settle, args.db_name, args.settle)
            # Where a check's time went: waiting for its lane's worker, or the task itself.
            runs = await asyncio.to_thread(
                runs_between, args.db_name, first_run, await asyncio.to_thread(last_run_id, args.db_name)
            )
            diagnoses, clicks = tasks_by_lane(runs)
            result["tasks"] = task_breakdown(diagnoses)
            result["click_tasks"] = task_breakdown(clicks)
            result["loadavg"] = os.getloadavg()[0]
            figures[scenario] = result
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    return figures


async def burst(
    args: argparse.Namespace,
    base_url: str,
    merchants: list[Merchant],
    tally: Tally,
    workdir: Path,
    roots: dict[str, int],
) -> dict:
    """The merchants press "Check every step" at once, the demo merchant clicks Step 1, readers read."""
    keep_alive = args.front == "nginx"
    for merchant in merchants:
        merchant.rounds_ms, merchant.rounds_polls = [], []
    spawn = multiprocessing.get_context("spawn")
    go, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
    prober = spawn.Process(
        target=probe_process, args=(base_url, args.timeout, keep_alive, go, stop, out), daemon=True
    )
    prober.start()
    try:
        log("the demo merchant signs in, in a process of its own")
        await probe_result(out, 60)  # signed in, one click done

        bulk_depth_before = redis_client(args.broker_url).llen("bulk")
        reader_done = asyncio.Event()
        if shutil.which("wrk"):
            reader = asyncio.ensure_future(
                wrk_reader(
                    f"{base_url}{ARTICLE_PATH}",
                    reader_done,
                    args.wrk_threads,
                    args.readers,
                    workdir,
                    args.article_rate,
                )
            )
        else:
            reader = asyncio.ensure_future(
                asyncio_reader(base_url, reader_done, args.readers, tally, args.article_rate)
            )
        await asyncio.sleep(1)  # the readers are under way before the merchants press
        log(
            f"burst: {len(merchants)} merchants press 'Check every step' at once ({args.rounds} round(s) each), "
            "the demo merchant clicks Step 1, anonymous readers read the article"
        )
        cpu_before = cpu_reading(roots, args.db_name)
        started = time.perf_counter()
        go.set()
        try:
            await asyncio.gather(*(merchant_rounds(m, args.rounds, args.timeout) for m in merchants))
        finally:
            stop.set()
            try:
                _, clicks, probe_requests, probe_errors = await probe_result(out, args.timeout + 5)
            finally:
                reader_done.set()
                if not reader.done():
                    await asyncio.wait([reader])
        load_seconds = time.perf_counter() - started
        cpu_after = cpu_reading(roots, args.db_name)
        read = reader.result()
        bulk_depth_after = redis_client(args.broker_url).llen("bulk")
        tally.requests += probe_requests
        tally.server_errors += probe_errors
    finally:
        stop.set()
        prober.join(10)
        if prober.is_alive():
            prober.kill()

    if isinstance(read, WrkResult):
        article = {
            "tool": f"wrk -t{args.wrk_threads} -c{args.readers}",
            "requests": read.requests,
            "per_second": read.requests / max(read.duration_us / 1e6, 1e-9),
            "p50_ms": read.p50_us / 1000,
            "p99_ms": read.p99_us / 1000,
            "max_ms": read.max_us / 1000,
            "bad": read.non_2xx_3xx + read.timeouts + read.connect_errors,
        }
    else:
        article = {
            "tool": f"asyncio reader x{args.readers}",
            "requests": len(read),
            "per_second": len(read) / max(load_seconds, 1e-9),
            "p50_ms": pct(read, 50),
            "p99_ms": pct(read, 99),
            "max_ms": max(read) if read else float("nan"),
            "bad": 0,
        }
    rounds = [ms for m in merchants for ms in m.rounds_ms]
    polls = [n for m in merchants for n in m.rounds_polls]
    cpu = cpu_spent(cpu_before, cpu_after)
    return {
        "load_seconds": load_seconds,
        "merchants": len(merchants),
        "rounds": len(rounds),
        "every_step_p50_ms": pct(rounds, 50),
        "every_step_p95_ms": pct(rounds, 95),
        "every_step_max_ms": max(rounds),
        "every_step_polls_p50": pct(polls, 50),
        "every_step_polls_max": max(polls),
        "clicks": len(clicks),
        "click_p50_ms": pct([c.ms for c in clicks], 50),
        "click_p95_ms": pct([c.ms for c in clicks], 95),
        # Where the slowest click's time went: the answer to its press, and how many looks followed.
        "click_press_p50_ms": pct([c.press_ms for c in clicks], 50),
        "click_press_p95_ms": pct([c.press_ms for c in clicks], 95),
        "click_looks_max": max(c.looks for c in clicks),
        "click_slowest": asdict(max(clicks, key=lambda c: c.ms)),
        "article": article,
        "requests": tally.requests + article["requests"],
        "server_errors": tally.server_errors + article["bad"],
        "bulk_queue_depth": [bulk_depth_before, bulk_depth_after],
        "cpu_seconds": cpu,
        # Diagnoses and Step 1 clicks together, readers and all: the burst's whole cost over its diagnoses.
        "cpu_per_diagnosis_ms": cpu_per_diagnosis_ms(cpu, len(rounds)),
    }


def poisson_arrivals(
    rate: float, duration: float, slow_fraction: float, seed: int
) -> list[tuple[float, bool]]:
    """Open-loop arrivals: ``(seconds from the start, slow?)``, exponential gaps averaging ``1/rate``.

    The same ``seed`` gives the same times whatever ``slow_fraction``, so a run with a slow quarter
    and one without are the same arrivals, some of them on the slow platform.
    """
    rng = random.Random(seed)
    arrivals, at = [], 0.0
    while (at := at + rng.expovariate(rate)) < duration:
        arrivals.append((at, rng.random() < slow_fraction))
    return arrivals


@dataclass
class Arrival:
    slow: bool
    lag_ms: float = 0.0  # how late the client started it: the bench's own event loop falling behind
    waited_ms: float = 0.0  # how long it waited for a merchant whose last diagnosis had ended
    ms: float | None = None  # from its arrival time to the summary's end, waits included
    looks: int = 0  # the summary's looks after the press
    error: str = ""


async def open_loop(
    args: argparse.Namespace,
    healthy: list[Merchant],
    slow: list[Merchant],
    slow_fraction: float,
    tally: Tally,
    roots: dict[str, int],
) -> dict:
    """Merchants arrive as a Poisson process, ``--rate`` a second for ``--duration`` seconds, each
    pressing "Check every step" and following the summary to its end; a ``slow_fraction`` of them
    have their plugin on a store that answers after ``--slow-seconds``.

    Open loop: an arrival never waits for the one before it. Each takes a signed-in merchant with no
    diagnosis under way (there are ``--pool`` of them, one press at a time each, as a person would);
    when none is free it waits, and the wait counts in its time, which runs from the arrival.
    """
    arrivals = poisson_arrivals(args.rate, args.duration, slow_fraction, args.seed)
    pools: dict[bool, asyncio.Queue[Merchant]] = {False: asyncio.Queue(), True: asyncio.Queue()}
    for merchant in healthy:
        pools[False].put_nowait(merchant)
    for merchant in slow:
        pools[True].put_nowait(merchant)
    done: list[Arrival] = []

    async def arrive(arrival: Arrival, due: float) -> None:
        merchant = await pools[arrival.slow].get()
        arrival.waited_ms = (time.perf_counter() - due) * 1000 - arrival.lag_ms
        try:
            arrival.ms = await check_every_step(merchant, args.timeout, started=due)
            arrival.looks = merchant.rounds_polls[-1]
        except (BenchError, httpx.HTTPError) as exc:  # counted and shown: the next arrival still comes
            arrival.error = f"{exc.__class__.__name__}: {exc}"[:300]
        finally:
            pools[arrival.slow].put_nowait(merchant)

    what = (
        f", {slow_fraction:.0%} of them on a store answering after {args.slow_seconds:.0f} s" if slow else ""
    )
    log(f"open loop: {len(arrivals)} diagnoses arriving at {args.rate:g}/s for {args.duration:.0f} s{what}")
    cpu_before = cpu_reading(roots, args.db_name)
    start = time.perf_counter() + 0.2
    tasks = []
    for offset, is_slow in arrivals:
        due = start + offset
        if (pause := due - time.perf_counter()) > 0:
            await asyncio.sleep(pause)
        arrival = Arrival(slow=is_slow, lag_ms=max(0.0, time.perf_counter() - due) * 1000)
        done.append(arrival)
        tasks.append(asyncio.ensure_future(arrive(arrival, due)))
    # Every round has its own deadline; this one bounds the whole in case a merchant never came free.
    finished, pending = await asyncio.wait(tasks, timeout=args.timeout + 10) if tasks else (set(), set())
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    load_seconds = time.perf_counter() - start
    cpu = cpu_spent(cpu_before, cpu_reading(roots, args.db_name))
    for arrival in done:
        if arrival.ms is None and not arrival.error:
            arrival.error = "never got a merchant with no diagnosis under way"

    def figures_of(group: list[Arrival]) -> dict:
        times = [a.ms for a in group if a.ms is not None]
        waited = [a.waited_ms for a in group if a.waited_ms > 1]
        return {
            "arrivals": len(group),
            "finished": len(times),
            "errors": len(group) - len(times),
            "p50_ms": pct(times, 50),
            "p95_ms": pct(times, 95),
            "max_ms": max(times) if times else float("nan"),
            # A slow store's merchant answered within a second: its store was paused (the breaker), not asked.
            "under_1s": sum(1 for ms in times if ms < 1000),
            "looks_mean": statistics.mean(a.looks for a in group if a.ms is not None) if times else 0.0,
            "waited_for_a_merchant": len(waited),
            "longest_wait_ms": max(waited) if waited else 0.0,
        }

    finished_count = sum(1 for a in done if a.ms is not None)
    return {
        "load_seconds": load_seconds,
        "rate": args.rate,
        "duration": args.duration,
        "slow_fraction": slow_fraction if slow else 0.0,
        "all": figures_of(done),
        "healthy": figures_of([a for a in done if not a.slow]),
        "slow": figures_of([a for a in done if a.slow]),
        "client_lag_max_ms": max((a.lag_ms for a in done), default=0.0),
        "first_errors": sorted({a.error for a in done if a.error})[:3],
        "requests": tally.requests,
        "server_errors": tally.server_errors,
        "cpu_seconds": cpu,
        "cpu_per_diagnosis_ms": cpu_per_diagnosis_ms(cpu, finished_count),
    }


def settle(dbname: str, seconds: float) -> int:
    """Wait up to ``seconds`` for runs in flight to end; how many are left queued or running."""
    deadline = time.monotonic() + seconds
    while (left := runs_in_flight(dbname)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def runs_in_flight(dbname: str) -> int:
    with pg_connect(dbname) as conn:
        return conn.execute(
            "SELECT count(*) FROM checks_checkrun WHERE status IN ('queued', 'running')"
        ).fetchone()[0]


def slow_syncs_running(dbname: str, plugin_ids: list[int]) -> int:
    with pg_connect(dbname) as conn:
        return conn.execute(
            "SELECT count(*) FROM commerce_syncrun WHERE plugin_id = ANY(%s) AND finished_at IS NULL",
            (plugin_ids,),
        ).fetchone()[0]


# --- The report -------------------------------------------------------------


def target(results: list[tuple[str, bool]], label: str, ok: bool) -> str:
    results.append((label, ok))
    return f"{label} {'PASS' if ok else 'FAIL'}"


def print_cpu(figures: dict, diagnoses_label: str) -> None:
    cpu = figures["cpu_seconds"]
    if not cpu:  # no /proc to read
        return
    # The host's other processes are left out: some of them end between the two readings.
    spent = sum(seconds for name, seconds in cpu.items() if name != "other")
    seconds = figures["load_seconds"]
    per = figures["cpu_per_diagnosis_ms"]
    print(
        f"CPU: {spent:.1f} s on {os.cpu_count()} cores in {seconds:.1f} s "
        f"({spent / (os.cpu_count() * seconds):.0%} of the machine): "
        + ", ".join(f"{name} {value:.2f}" for name, value in cpu.items() if value >= 0.01 and name != "other")
    )
    print(
        f"CPU per {diagnoses_label}: {per['stack']:.1f} ms in the stack (web, workers, nginx, PostgreSQL, "
        f"Redis), {per['with_clients']:.1f} ms with the bench's clients"
    )


def report_burst(figures: dict, args: argparse.Namespace) -> list[tuple[str, bool]]:
    article = figures["article"]
    paced = f"paced at {args.article_rate:.0f}/s" if args.article_rate > 0 else "as fast as answered"
    results: list[tuple[str, bool]] = []
    print()
    print(f"=== burst: {figures['merchants']} merchants at once, slow syncs on bulk, anonymous readers ===")
    print(
        f'"Check every step": {figures["rounds"]} rounds in {figures["load_seconds"]:.1f} s: '
        f"p50 {figures['every_step_p50_ms']:.0f} ms, p95 {figures['every_step_p95_ms']:.0f} ms, "
        f"max {figures['every_step_max_ms']:.0f} ms; looks at the summary per round "
        f"p50 {figures['every_step_polls_p50']:.0f}, max {figures['every_step_polls_max']}"
    )
    print(
        f"Step 1 click-to-result: {figures['clicks']} clicks: p50 {figures['click_p50_ms']:.0f} ms, "
        f"p95 {figures['click_p95_ms']:.0f} ms; the press answered in p50 {figures['click_press_p50_ms']:.0f} ms, "
        f"p95 {figures['click_press_p95_ms']:.0f} ms; looks per click at most {figures['click_looks_max']} "
        f"(the slowest: press {figures['click_slowest']['press_ms']:.0f} ms, "
        f"{figures['click_slowest']['looks']} looks)"
    )
    print(
        f"anonymous article ({article['tool']}, {paced}): {article['requests']} requests, "
        f"{article['per_second']:.0f}/s: "
        f"p50 {article['p50_ms']:.1f} ms, p99 {article['p99_ms']:.1f} ms, max {article['max_ms']:.1f} ms"
    )
    print(
        f"bulk queue: slow syncs running at the end {figures['slow_syncs_running']} of 2; "
        f"messages waiting before/after the load {figures['bulk_queue_depth']}"
    )
    print_tasks(figures)
    print_cpu(figures, "diagnosis (with the clicks and the readers)")
    line = " | ".join(
        [
            target(
                results,
                f"every-step p95 {figures['every_step_p95_ms']:.0f} ms (<= {TARGETS['every_step_p95_ms']:.0f})",
                figures["every_step_p95_ms"] <= TARGETS["every_step_p95_ms"],
            ),
            target(
                results,
                f"click p95 {figures['click_p95_ms']:.0f} ms (<= {TARGETS['click_p95_ms']:.0f})",
                figures["click_p95_ms"] <= TARGETS["click_p95_ms"],
            ),
            target(
                results,
                f"article p99 {article['p99_ms']:.1f} ms (<= {TARGETS['article_p99_ms']:.0f})",
                article["p99_ms"] <= TARGETS["article_p99_ms"],
            ),
            *print_common(figures, results),
            # Else the bulk queue was not saturated, and the run showed nothing.
            target(
                results, f"slow syncs {figures['slow_syncs_running']} (2)", figures["slow_syncs_running"] == 2
            ),
        ]
    )
    print(f"burst: {line}")
    return results


def tasks_by_lane(runs: list[dict]) -> tuple[list[dict], list[dict]]:
    """The runs of whole diagnoses' tasks (the interactive lane) and of one step's (the clicks lane)."""
    sizes: dict[str, int] = {}
    for run in runs:
        key = run["task_id"] or str(run["id"])
        sizes[key] = sizes.get(key, 0) + 1
    diagnoses, clicks = [], []
    for run in runs:
        # A click's task holds its step and, at most, the "already here?" run beside it.
        (clicks if sizes[run["task_id"] or str(run["id"])] <= 2 else diagnoses).append(run)
    return diagnoses, clicks


def print_tasks(figures: dict) -> None:
    for label, key in (("every-step check tasks", "tasks"), ("click tasks", "click_tasks")):
        tasks = figures.get(key)
        if not tasks or not tasks["task_span"]["n"]:
            continue
        print(
            f"{label}: queue wait p50 {tasks['queue_wait']['p50']:.0f} ms p95 {tasks['queue_wait']['p95']:.0f} ms; "
            f"task span p50 {tasks['task_span']['p50']:.0f} ms p95 {tasks['task_span']['p95']:.0f} ms "
            f"(n={tasks['task_span']['n']})"
        )
    print("the rest is the web answering the press and the looks")


def print_common(figures: dict, results: list[tuple[str, bool]]) -> list[str]:
    print(f"runs left queued or running afterwards: {figures['left_in_flight']}")
    print(f"5xx: {figures['server_errors']} of {figures['requests']} requests")
    return [
        target(results, f"stuck {figures['left_in_flight']} (0)", figures["left_in_flight"] == 0),
        target(results, f"5xx {figures['server_errors']} (0)", figures["server_errors"] == 0),
    ]


def report_open_loop(
    scenario: str, figures: dict, args: argparse.Namespace, baseline: dict | None
) -> list[tuple[str, bool]]:
    results: list[tuple[str, bool]] = []
    print()
    slow = figures["slow_fraction"] > 0
    print(
        f"=== {scenario}: Poisson arrivals, {figures['rate']:g} diagnoses/s for {figures['duration']:.0f} s"
        + (
            f", {figures['slow_fraction']:.0%} on a store answering after {args.slow_seconds:.0f} s"
            if slow
            else ""
        )
        + " ==="
    )
    for group in ("healthy", "slow") if slow else ("all",):
        g = figures[group]
        print(
            f"{group}: {g['finished']} of {g['arrivals']} diagnoses done, from arrival to the summary's end: "
            f"p50 {g['p50_ms']:.0f} ms, p95 {g['p95_ms']:.0f} ms, max {g['max_ms']:.0f} ms; "
            + (f"{g['under_1s']} in under 1 s (the store paused); " if group == "slow" else "")
            + f"looks at the summary {g['looks_mean']:.2f} a diagnosis; {g['errors']} not done; {g['waited_for_a_merchant']} waited for a free merchant "
            f"(longest {g['longest_wait_ms']:.0f} ms)"
        )
    print(
        f"the bench's own lag starting arrivals: max {figures['client_lag_max_ms']:.0f} ms (high: its figures are late)"
    )
    for error in figures["first_errors"]:
        print(f"  not done: {error}")
    print_tasks(figures)
    print_cpu(figures, "diagnosis")
    parts = []
    if slow:
        healthy = figures["healthy"]
        if baseline is None:
            parts.append(target(results, "healthy p95 vs open-loop: no open-loop figure", False))
        else:
            limit = baseline["all"]["p95_ms"] * (1 + SLOW_QUARTER_MARGIN)
            parts.append(
                target(
                    results,
                    f"healthy p95 {healthy['p95_ms']:.0f} ms (<= {limit:.0f}: open-loop's "
                    f"{baseline['all']['p95_ms']:.0f} + {SLOW_QUARTER_MARGIN:.0%})",
                    healthy["p95_ms"] <= limit,
                )
            )
        parts.append(target(results, f"healthy not done {healthy['errors']} (0)", healthy["errors"] == 0))
    else:
        every = figures["all"]
        parts.append(
            target(
                results,
                f"p95 {every['p95_ms']:.0f} ms (<= {TARGETS['open_loop_p95_ms']:.0f})",
                every["p95_ms"] <= TARGETS["open_loop_p95_ms"],
            )
        )
        parts.append(target(results, f"not done {every['errors']} (0)", every["errors"] == 0))
        if figures["cpu_seconds"]:
            per = figures["cpu_per_diagnosis_ms"]["stack"]
            parts.append(
                target(
                    results,
                    f"CPU per diagnosis {per:.1f} ms (<= {TARGETS['cpu_per_diagnosis_ms']:.0f})",
                    per <= TARGETS["cpu_per_diagnosis_ms"],
                )
            )
    parts += print_common(figures, results)
    print(f"{scenario}: " + " | ".join(parts))
    return results


def report(figures: dict[str, dict], args: argparse.Namespace) -> bool:
    print()
    print(
        f"machine: {os.cpu_count()} CPUs; 1-min load average {max(f['loadavg'] for f in figures.values()):.2f} "
        f"at most after a scenario; gunicorn {args.workers} x {args.gunicorn_threads} threads"
        + (
            f" (+ {args.diagnoses_workers} for every-step starts); front: nginx"
            if args.front == "nginx"
            else ""
        )
        + f"; interactive workers: {args.worker_processes} x --concurrency={args.interactive_concurrency}"
        + f"; clicks worker: 1 x --concurrency={args.click_concurrency}"
    )
    results: list[tuple[str, bool]] = []
    for scenario, result in figures.items():
        if scenario == "burst":
            results += report_burst(result, args)
        else:
            results += report_open_loop(scenario, result, args, figures.get("open-loop"))
    passed = all(ok for _, ok in results)
    print()
    print(f"{sum(ok for _, ok in results)} of {len(results)} targets met: {'PASS' if passed else 'FAIL'}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"figures": figures, "targets": TARGETS, "results": results, "passed": passed}, indent=2
            )
        )
    return passed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args.child, json.loads(args.spec))

    port = args.port or free_port()
    if args.front == "nginx" and nginx_local.nginx_binary() is None:
        print(
            "[bench] nginx is not installed: apt-get install -y nginx-light (or --front none)",
            file=sys.stderr,
        )
        return 2
    front_port = free_port() if args.front == "nginx" else port
    diagnoses_port = free_port() if args.front == "nginx" else port
    cache_prefix = f"kt-bench-load-{secrets.token_hex(4)}"
    env = server_environment(args, cache_prefix, CHECK_STARTS_PER_MINUTE="100000")
    args.broker_url, cache_url = env["CELERY_BROKER_URL"], env["REDIS_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-bench-load-"))
    gunicorn_log = workdir / "gunicorn.log"
    server = front = diagnoses_server = None
    workers: dict = {}
    slow_store = quarter_store = None
    database_created = redis_claimed = failed = False
    throttle_before: set[bytes] = set()
    try:
        throttle_before = throttle_keys(cache_url)
        broker_db_claim(args.broker_url)
        redis_claimed = True
        log(f"database {args.db_name} (drop + create), broker {args.broker_url}, cache {cache_url}")
        database_recreate(args.db_name)
        database_created = True
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "demo_setup", "--base-url", f"http://{HOST}:{front_port}")
        slow_store = SlowStore(args.page_seconds)
        log(f"slow store on {slow_store.url}: each page of orders after {args.page_seconds:.0f} s")
        spec = {
            "merchants": max(args.merchants if "burst" in args.scenarios else 1, args.healthy_pool),
            "slow_url": slow_store.url,
            "slow_merchants": args.slow_pool,
            "quarter_url": "",
        }
        if args.slow_pool:
            quarter_store = SlowStore(args.slow_seconds, every_answer=True)
            spec["quarter_url"] = quarter_store.url
            log(
                f"the slow quarter's store on {quarter_store.url}: every answer after {args.slow_seconds:.0f} s"
            )
        made = child("setup", spec, env, 600)

        server = gunicorn_start(env, port, args.workers, gunicorn_log, threads=args.gunicorn_threads)
        workers = celery_workers_start(
            env,
            workdir,
            name="bench-load",
            concurrency={
                "clicks": args.click_concurrency,
                "interactive": args.interactive_concurrency,
                "bulk": args.bulk_concurrency,
            },
            nice={"interactive": args.diagnoses_nice},
        )
        # More interactive workers, each a process of its own as on a machine of its own.
        for n in range(2, args.worker_processes + 1):
            logdir = workdir / f"interactive-{n}"
            logdir.mkdir()
            more = celery_workers_start(
                env,
                logdir,
                name=f"bench-load-{n}",
                concurrency={"interactive": args.interactive_concurrency},
                queues=("interactive",),
                nice={"interactive": args.diagnoses_nice},
            )
            workers[f"interactive-{n}"] = more["interactive"]
        wait_until_serving(server, port, gunicorn_log, timeout=60)
        if args.front == "nginx":
            diagnoses_log = workdir / "gunicorn-diagnoses.log"
            diagnoses_server = gunicorn_start(
                env,
                diagnoses_port,
                args.diagnoses_workers,
                diagnoses_log,
                threads=args.gunicorn_threads,
                nice=args.diagnoses_nice,
            )
            wait_until_serving(diagnoses_server, diagnoses_port, diagnoses_log, timeout=60)
            front = nginx_local.start(
                port=front_port, upstream_port=port, diagnoses_port=diagnoses_port, workdir=workdir / "nginx"
            )
            log(
                f"nginx on {HOST}:{front_port} in front of both (deploy/nginx/kitty.conf.template): "
                f'"Check every step" and its polls to {HOST}:{diagnoses_port}, the rest to {HOST}:{port}'
            )
        log("queueing the slow syncs and a sync of every plugin, as beat would")
        child("saturate", {"slow_plugin_ids": made["slow_plugin_ids"]}, env, 120)

        roots = {"web gunicorn": server.pid, **{f"{q} worker": w.pid for q, w in workers.items()}}
        if front is not None:
            roots |= {"every-step gunicorn": diagnoses_server.pid, "nginx": front.pid}
        figures = asyncio.run(load(args, f"http://{HOST}:{front_port}", made, workdir, roots))
        if server.poll() is not None or any(w.poll() is not None for w in workers.values()):
            raise BenchError("gunicorn or a worker died during the run")
        if front is not None and front.poll() is not None:
            raise BenchError("nginx died during the run")
        if diagnoses_server is not None and diagnoses_server.poll() is not None:
            raise BenchError("the diagnoses' gunicorn died during the run")
        return 0 if report(figures, args) else 1
    except BenchError as exc:
        print(f"[bench] ERROR: {exc}", file=sys.stderr, flush=True)
        print(f"[bench] logs: {workdir}", file=sys.stderr, flush=True)
        failed = True
        return 2
    finally:
        if front is not None:
            nginx_local.stop(front)
            log("nginx stopped")
        for store in (slow_store, quarter_store):
            if store is not None:
                store.stop()
        for name, process in (
            *((f"{q} worker", w) for q, w in workers.items()),
            ("gunicorn", server),
            ("the diagnoses' gunicorn", diagnoses_server),
        ):
            if process is not None:
                process_stop(process)
                log(f"{name} stopped")
        if args.keep:
            log(
                f"kept database {args.db_name}, broker {args.broker_url}, cache prefix {cache_prefix}; logs in {workdir}"
            )
        else:
            if database_created:
                database_drop(args.db_name)
            removed = 0
            if redis_claimed:
                new_throttle = throttle_keys(cache_url) - throttle_before
                removed = broker_keys_delete(args.broker_url) + cache_keys_delete(
                    cache_url, cache_prefix, also=new_throttle
                )
            if not failed:
                shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {args.db_name}, deleted {removed} Redis keys")


if __name__ == "__main__":
    sys.exit(main())
