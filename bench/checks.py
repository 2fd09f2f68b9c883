"""Benchmark: "Check this now", from the click to the result, on the production stack.

Targets: click-to-result for a database-only check p50 <= 150 ms and p95 <= 400 ms;
the check task's own time p50 <= 10 ms; "check every step" (7 steps) p95 <= 1 s;
without JavaScript (a form POST, then the article refreshing itself) click-to-result
p95 <= 2.5 s, for one step and for every step; the clicks lane's Celery worker
sustains >= 100 checks/s.

What it does, all on 127.0.0.1 and nothing else:

1. drops and creates a fresh PostgreSQL database (``kitty_bench_checks`` on
   127.0.0.1:5432, user ``root``, trust auth); Redis db 7 is the Celery broker
   (it must be empty or hold only Celery's keys) and db 8 the cache, under a
   key prefix of its own;
2. runs ``migrate``, ``collectstatic`` (DEBUG=0 uses the manifest storage) and
   ``demo_setup`` (the merchant ``merchant`` / ``kitty-merchant``, the article
   /help/order-did-not-import/, demo plugins and orders on the built-in
   "sandbox" marketplace, which answers from local tables);
3. starts gunicorn (2 gthread workers x 4 threads by default) and a Celery
   worker per lane (clicks, the one measured, and interactive, each
   ``--concurrency`` threads; bulk 1) with DEBUG=0, fresh SECRET_KEY and CREDENTIALS_KEY and
   CHECK_STARTS_PER_MINUTE=100000 (so the per-user limit does not throttle
   the bench), and waits until they answer;
4. measures, each figure after a short unmeasured warm-up:

   * a framework round trip (reference): a run of an unregistered check key,
     queued straight from the ORM, from ``queued_at`` to ``finished_at``;
   * click-to-result: signs in as the merchant over HTTP, reads the article
     (page id, plugin ids, step block ids), then, as htmx does, POSTs
     /checks/start/ for Step 1 (``import_orders_enabled``, plugin "Demo
     Marketplace – Main store", order #1001) and follows the widget's
     ``hx-get`` after the ``delay:NNNms`` its ``hx-trigger`` names, until
     ``data-check-status`` is final. Samples run one after the other (identical
     in-flight runs would be reused); the same diagnosis collects every run,
     as when a merchant clicks "Check again";
   * the check task's own time: ``checks_checkrun.task_seconds`` of those runs;
   * "check every step": POST with ``all=1``, then poll the summary's
     ``hx-get`` until ``data-summary-status="done"``;
   * without JavaScript, Step 1 and "check every step" as a browser with
     scripts off does them: the form POST, its redirect to the article, then
     the article's ``<noscript>`` meta refresh (waiting the seconds it names)
     until the step or the summary is final;
   * the second article, "An Order Imported Twice" (its own check set): Step 1
     clicks and "check every step", measured as the first article's and
     printed beside them (``--second-samples 0`` skips it);
   * the first article's German translation (``/de/help/…``, which the demo
     ships): Step 1 clicks, printed beside the English article's
     (``--german-samples 0`` skips it);
   * checks/s: a burst of runs (2000 by default) created in bulk through the
     ORM and queued one run per task with ``run_checks.apply_async``, from the
     first enqueue to the last ``finished_at``;
5. prints the figures, a breakdown (request times, polls, queue wait) and
   PASS/FAIL;
6. stops the worker and gunicorn, drops the database and deletes its Redis
   keys (unless ``--keep``).

Run from the repository root::

    uv run python bench/checks.py
    uv run python bench/checks.py --samples 50 --all-samples 10 --burst 500   # a quick look
    uv run python bench/checks.py --workers 3 --json var/bench-checks.json

Exit status: 0 on PASS, 1 on FAIL, 2 when the set-up or a sanity check failed.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
from stack import (
    HOST,
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
    manage,
    pg_connect,
    process_stop,
    process_tree_cpu_seconds,
    redis_client,
    run_child,
    server_environment,
    wait_until_serving,
)

ARTICLE_PATH = "/help/order-did-not-import/"
USERNAME, PASSWORD = "merchant", "kitty-merchant"
PLUGIN_NAME = "Demo Marketplace – Main store"
ORDER_NUMBER = "1001"
STEP_CHECK_KEY = "import_orders_enabled"
STEPS = 7
# The second article, on its own check set: measured beside the first in the same run.
SECOND_PATH = "/help/order-imported-twice/"
SECOND_STEP_CHECK_KEY = "store_connected_twice"
SECOND_STEPS = 5
# The first article's German translation (the demo ships it): the same checks, read in German.
GERMAN_PATH = "/de/help/eine-bestellung-wurde-nicht-importiert/"
NOOP_CHECK_KEY = "bench_noop"  # registered nowhere: the task answers "no longer exists"
FINAL = {"passed", "failed", "unknown"}
IN_FLIGHT = {"queued", "running"}
# Keys Celery/kombu keep in a Redis broker db; anything else means the db is someone else's.
# The queues are lists named after them (interactive, housekeeping, bulk), "\x06\x16N" added for priorities.
BROKER_KEY = re.compile(
    r"^(_kombu\.|celery|unacked)|\.pidbox$|^(clicks|interactive|housekeeping|bulk)(\x06\x16\d)?$"
)

TARGETS = {
    "click_p50_ms": 150.0,
    "click_p95_ms": 400.0,
    "task_p50_ms": 10.0,
    "all_p95_ms": 1000.0,
    "nojs_p95_ms": 2500.0,
    "checks_per_s": 100.0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Measure "Check this now" end to end under gunicorn and one Celery worker '
            "(DEBUG=0, PostgreSQL, Redis). Talks to 127.0.0.1 only."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--samples", type=int, default=200, help="click-to-result samples (Step 1)")
    parser.add_argument("--all-samples", type=int, default=30, help='"check every step" samples')
    parser.add_argument("--burst", type=int, default=2000, help="runs queued at once for checks/s")
    parser.add_argument("--noop-samples", type=int, default=50, help="framework round trips (0: skip)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured clicks before each figure")
    parser.add_argument(
        "--second-samples", type=int, default=100, help="Step 1 clicks on the second article (0: skip it)"
    )
    parser.add_argument("--second-all-samples", type=int, default=15, help='its "check every step" samples')
    parser.add_argument(
        "--german-samples", type=int, default=100, help="Step 1 clicks on the German article (0: skip it)"
    )
    parser.add_argument(
        "--nojs-samples",
        type=int,
        default=20,
        help="samples of each start without JavaScript (about 1.5 s each)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="threads of each checks worker, clicks (the one measured) and interactive (their pools are threads)",
    )
    add_stack_arguments(parser, db_name="kitty_bench_checks", redis_db=8, broker_db=7)
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds one sample may take")
    parser.add_argument("--burst-timeout", type=float, default=300.0, help="seconds the burst may take")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, the Redis keys and the logs afterwards"
    )
    parser.add_argument("--child", choices=["noop", "burst"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.broker_db == args.redis_db:
        parser.error("--broker-db and --redis-db must differ")
    for name in ("samples", "all_samples", "nojs_samples", "burst", "workers", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("noop_samples", "warmup"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must not be negative")
    return args


# --- PostgreSQL and Redis ---------------------------------------------------


def last_run_id(dbname: str) -> int:
    with pg_connect(dbname) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM checks_checkrun").fetchone()[0]


def pg_sessions(dbname: str) -> int:
    """Connections ever opened to the database (PostgreSQL 14+): how often workers reconnect."""
    with pg_connect(dbname) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (dbname,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0


def runs_between(dbname: str, after_id: int, upto_id: int) -> list[dict]:
    """The runs created in (after_id, upto_id], with their timestamps as seconds."""
    query = """
        SELECT id, check_key, status, task_id, task_seconds,
               extract(epoch FROM queued_at)::float8, extract(epoch FROM started_at)::float8,
               extract(epoch FROM finished_at)::float8
        FROM checks_checkrun WHERE id > %s AND id <= %s ORDER BY id
    """
    keys = ("id", "check_key", "status", "task_id", "task_seconds", "queued", "started", "finished")
    with pg_connect(dbname) as conn:
        return [dict(zip(keys, row, strict=True)) for row in conn.execute(query, (after_id, upto_id))]


def broker_db_claim(url: str) -> None:
    """Refuse a broker db that holds anything but Celery's keys; clear Celery's (a previous run's)."""
    client = redis_client(url)
    keys = [k.decode("utf-8", "replace") for k in client.scan_iter(count=500)]
    foreign = [k for k in keys if not BROKER_KEY.search(k)]
    if foreign:
        raise BenchError(
            f"Redis {url} holds keys that are not Celery's ({', '.join(foreign[:5])}); choose another --broker-db"
        )
    if keys:
        client.delete(*keys)
        log(f"cleared {len(keys)} stale Celery keys from {url}")


def broker_keys_delete(url: str) -> int:
    client = redis_client(url)
    keys = [k for k in client.scan_iter(count=500) if BROKER_KEY.search(k.decode("utf-8", "replace"))]
    if keys:
        client.delete(*keys)
    return len(keys)


THROTTLE_KEYS = "kt:throttle:*"  # the platform throttle's keys ignore CACHE_KEY_PREFIX


def throttle_keys(url: str) -> set[bytes]:
    return set(redis_client(url).scan_iter(match=THROTTLE_KEYS, count=500))


# --- The Celery worker and the children ------------------------------------


def child(
    kind: str, spec: dict, env: dict[str, str], timeout: float, worker: subprocess.Popen, logfile: Path
):
    """Run this script as a Django process (``--child``) and return the JSON it prints last."""
    try:
        return run_child(Path(__file__), kind, spec, env, timeout)
    except BenchError as exc:
        state = "exited" if worker.poll() is not None else "running"
        raise BenchError(f"{exc}\nworker {state}; worker log:\n{logfile.read_text()[-3000:]}") from None


# --- The merchant's browser -------------------------------------------------


class Browser:
    """An htmx-like client: keeps its own cookies, because with DEBUG=0 they are Secure and this is http."""

    def __init__(self, base_url: str, timeout: float):
        self.client = httpx.Client(
            base_url=base_url, timeout=timeout, follow_redirects=False, trust_env=False
        )
        self.cookies: dict[str, str] = {}
        # The article on screen: htmx names it (HX-Current-URL) and answers speak its language.
        self.page_path = ARTICLE_PATH

    def close(self) -> None:
        self.client.close()

    def _headers(self, htmx: bool) -> dict[str, str]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
            headers["HX-Current-URL"] = str(self.client.base_url.join(self.page_path))
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        return headers

    def _keep_cookies(self, response: httpx.Response) -> None:
        for raw in response.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.client.cookies.clear()  # httpx's jar would not send Secure cookies over http anyway

    def get(self, path: str, *, htmx: bool = False) -> httpx.Response:
        response = self.client.get(path, headers=self._headers(htmx))
        self._keep_cookies(response)
        return response

    def post(self, path: str, data: dict, *, htmx: bool = False) -> httpx.Response:
        response = self.client.post(path, data=data, headers=self._headers(htmx))
        self._keep_cookies(response)
        return response


@dataclass
class Article:
    page_id: str
    subject_id: str
    block_id: str  # Step 1's
    steps: dict[str, str]  # block id -> check key
    order_number: str = ORDER_NUMBER
    shown: str = ""  # the diagnosis the page shows (``shown_diagnosis``), sent with each start as htmx does


def sign_in(browser: Browser) -> None:
    response = browser.get("/accounts/login/")
    if response.status_code != 200 or "csrftoken" not in browser.cookies:
        raise BenchError(f"GET /accounts/login/ answered {response.status_code} without a csrftoken cookie")
    token = browser.cookies["csrftoken"]
    response = browser.client.post(
        "/accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": ARTICLE_PATH},
        headers={**browser._headers(False), "X-CSRFToken": token},
    )
    browser._keep_cookies(response)
    if response.status_code != 302 or "sessionid" not in browser.cookies:
        raise BenchError(
            f"signing in as {USERNAME} answered {response.status_code} "
            f"(cookies: {sorted(browser.cookies)}):\n{response.text[:1500]}"
        )
    log(f"signed in as {USERNAME} (session cookie kept by hand: it is Secure, this is http)")


def read_article(
    browser: Browser, path: str = ARTICLE_PATH, step_key: str = STEP_CHECK_KEY, step_count: int = STEPS
) -> Article:
    response = browser.get(path)
    body = response.text
    if response.status_code != 200:
        raise BenchError(f"{path} answered {response.status_code}")
    browser.page_path = path
    if 'id="check-inputs"' not in body:
        raise BenchError(f"{path} shows no check panel: the sign-in did not take")
    page = re.search(r'<input type="hidden" name="page" value="(\d+)"', body)
    select = re.search(r'<select[^>]*name="subject"[^>]*>(.*?)</select>', body, re.S)
    if not page or not select:
        raise BenchError(f"{path}: no page id or plugin choice in the check panel")
    subjects = {
        html.unescape(label).strip(): value
        for value, label in re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select.group(1))
    }
    if PLUGIN_NAME not in subjects:
        raise BenchError(f"no plugin {PLUGIN_NAME!r} among {sorted(subjects)}")
    steps = dict(re.findall(r'id="check-([^"]+)" data-check-status="[^"]*" data-check-key="([^"]+)"', body))
    step_1 = [block for block, key in steps.items() if key == step_key]
    if len(steps) != step_count or len(step_1) != 1:
        raise BenchError(f"{path}: expected {step_count} step widgets, one of them {step_key}; found {steps}")
    return Article(page.group(1), subjects[PLUGIN_NAME], step_1[0], steps, shown=shown_diagnosis(body))


@dataclass
class Poll:
    status: str
    url: str
    delay_ms: int


def _poll_state(tag: str | None, status_attr: str, what: str, body: str) -> Poll:
    if tag is None:
        error = re.search(r'class="check__error"[^>]*>([^<]*)<', body)
        raise BenchError(
            f"no {what} in the answer" + (f": {error.group(1)}" if error else f":\n{body[:1500]}")
        )
    status = re.search(rf'{status_attr}="([^"]*)"', tag)
    url = re.search(r'hx-get="([^"]+)"', tag)
    delay = re.search(r"delay:(\d+)ms", tag)
    return Poll(
        status.group(1) if status else "",
        html.unescape(url.group(1)) if url else "",
        int(delay.group(1)) if delay else 0,
    )


def widget_state(body: str, block_id: str) -> Poll:
    tag = re.search(rf'<div class="check" id="check-{re.escape(block_id)}"[^>]*>', body)
    return _poll_state(tag and tag.group(0), "data-check-status", f"widget #check-{block_id}", body)


# The diagnosis a page shows, in the hidden field htmx sends with the panel's inputs (hx-include): with it a
# click on the same order answers with its own step alone, without it every other step's widget comes too.
SHOWN = re.compile(r'<input type="hidden" name="shown" form="check-inputs" value="([^"]+)"')


def shown_diagnosis(body: str, current: str = "") -> str:
    """The diagnosis ``body`` puts on the page (its ``shown`` field), else the one the page had."""
    found = SHOWN.search(body)
    return found.group(1) if found else current


def summary_state(body: str) -> Poll:
    tag = re.search(r'<div id="diagnosis-summary"[^>]*>', body)
    state = _poll_state(tag and tag.group(0), "data-summary-status", "#diagnosis-summary", body)
    return state


@dataclass
class Sample:
    total_ms: float
    post_ms: float
    poll_ms: list[float] = field(default_factory=list)
    status: str = ""


def follow(
    browser: Browser, first: httpx.Response, read, done, deadline: float, article: Article | None = None
) -> tuple[list[float], str]:
    """Poll as htmx would: wait the trigger's delay, GET the hx-get URL, until ``done(status)``.

    ``article``: its ``shown`` follows what each answer puts on the page.
    """
    polls: list[float] = []
    if first.status_code != 200:
        raise BenchError(f"POST /checks/start/ answered {first.status_code}:\n{first.text[:1500]}")
    state = read(first.text)
    if article is not None:
        article.shown = shown_diagnosis(first.text, article.shown)
    while not done(state.status):
        if not state.url:
            raise BenchError(f"status {state.status!r} but nothing to poll")
        if time.perf_counter() + state.delay_ms / 1000 > deadline:
            raise BenchError(f"still {state.status!r} after the sample timeout ({state.url})")
        time.sleep(state.delay_ms / 1000)
        started = time.perf_counter()
        response = browser.get(state.url, htmx=True)
        polls.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchError(f"GET {state.url} answered {response.status_code}:\n{response.text[:1500]}")
        state = read(response.text)
        if article is not None:
            article.shown = shown_diagnosis(response.text, article.shown)
    return polls, state.status


def click(browser: Browser, article: Article, timeout: float) -> Sample:
    """One "Check this now" on Step 1, to its result."""
    data = {
        "page": article.page_id,
        "subject": article.subject_id,
        "order_number": article.order_number,
        "placed_date": "",
        "shown": article.shown,
        "block_id": article.block_id,
    }
    started = time.perf_counter()
    response = browser.post("/checks/start/", data, htmx=True)
    post_ms = (time.perf_counter() - started) * 1000
    polls, status = follow(
        browser,
        response,
        lambda body: widget_state(body, article.block_id),
        lambda status: status in FINAL,
        started + timeout,
        article,
    )
    return Sample((time.perf_counter() - started) * 1000, post_ms, polls, status)


def check_every_step(browser: Browser, article: Article, timeout: float) -> Sample:
    data = {
        "page": article.page_id,
        "subject": article.subject_id,
        "order_number": article.order_number,
        "placed_date": "",
        "shown": article.shown,
        "all": "1",
    }
    started = time.perf_counter()
    response = browser.post("/checks/start/", data, htmx=True)
    post_ms = (time.perf_counter() - started) * 1000
    polls, status = follow(
        browser, response, summary_state, lambda status: status == "done", started + timeout, article
    )
    total = (time.perf_counter() - started) * 1000
    body_statuses = re.findall(r'data-check-status="([^"]+)"', response.text)
    if len(body_statuses) < len(article.steps):
        raise BenchError(f"the check-every-step answer does not carry the {len(article.steps)} step widgets")
    return Sample(total, post_ms, polls, status)


# The article's own refresh while checks run, for a browser without JavaScript.
NOJS_REFRESH = re.compile(r'<noscript><meta http-equiv="refresh" content="(\d+); url=([^"]+)"></noscript>')


def click_without_javascript(
    browser: Browser, article: Article, timeout: float, *, every_step: bool
) -> Sample:
    """Step 1's "Check this now" (or "Check every step") with scripts off, to the page that shows the result.

    A form POST, the redirect it answers, then the article as the browser
    loads it again and again: after the seconds its meta refresh names, at
    the address it names. ``poll_ms``: each load of the article.
    """
    data = {
        "page": article.page_id,
        "subject": article.subject_id,
        "order_number": article.order_number,
        "placed_date": "",
        "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
        **({"all": "1"} if every_step else {"block_id": article.block_id}),
    }
    started = time.perf_counter()
    response = browser.post("/checks/start/", data)
    post_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 302:
        raise BenchError(
            f"POST /checks/start/ without htmx answered {response.status_code}:\n{response.text[:1500]}"
        )
    url, loads = response.headers["location"], []
    while True:
        load_started = time.perf_counter()
        page = browser.get(url.split("#", 1)[0])
        loads.append((time.perf_counter() - load_started) * 1000)
        if page.status_code != 200:
            raise BenchError(f"GET {url} answered {page.status_code}")
        if every_step:
            status, done = summary_state(page.text).status, "done"
        else:
            status = widget_state(page.text, article.block_id).status
            done = status if status in FINAL else ""
        if status == done:
            return Sample((time.perf_counter() - started) * 1000, post_ms, loads, status)
        refresh = NOJS_REFRESH.search(page.text)
        if refresh is None:
            raise BenchError(f"still {status!r} at {url}, and the article does not refresh itself")
        delay, url = int(refresh.group(1)), html.unescape(refresh.group(2))
        if time.perf_counter() + delay > started + timeout:
            raise BenchError(f"still {status!r} after the sample timeout ({url})")
        time.sleep(delay)


# --- Children: Django processes that queue runs straight from the ORM --------


def _bench_diagnosis(spec: dict, order_number: str):
    """A diagnosis of its own (no user), so the merchant's clicks never see these runs."""
    from apps.checks.models import Diagnosis
    from apps.commerce.models import Plugin

    plugin = Plugin.objects.get(pk=spec["subject_id"])
    return Diagnosis.objects.create(
        merchant_id=plugin.merchant_id,
        user=None,
        page_id=spec["page_id"],
        subject_id=plugin.pk,
        subject_label=plugin.name,
        check_set="order-import",
        reference=order_number,
        inputs={"order_number": order_number, "placed_date": ""},
    )


def _new_run(diagnosis, check_key: str, block_id: str, now, deadline):
    from apps.checks.models import CheckRun

    return CheckRun(
        diagnosis=diagnosis,
        merchant_id=diagnosis.merchant_id,
        user=None,
        page_id=diagnosis.page_id,
        block_id=block_id,
        step_number=1,
        check_key=check_key,
        inputs={"subject_id": diagnosis.subject_id, **diagnosis.inputs},
        queued_at=now,
        deadline=deadline,
    )


def child_noop(spec: dict) -> dict:
    """Sequential round trips of a run whose check does not exist: the framework's own cost."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.checks.models import CheckRun
    from apps.checks.services.queueing import check_runs_enqueue

    diagnosis = _bench_diagnosis(spec, "noop")
    ids, wall_ms = [], []
    for n in range(spec["count"]):
        now = timezone.now()
        run = _new_run(diagnosis, NOOP_CHECK_KEY, "noop", now, now + timedelta(seconds=60))
        run.task_id = str(uuid.uuid4())  # as a start gives it: the task takes over exactly this run
        run.save()
        started = time.perf_counter()
        check_runs_enqueue(
            [run.pk], task_id=run.task_id
        )  # as a click queues it: limits and expiry from settings
        # The first one waits for the worker to come up.
        limit = started + (spec["first_timeout"] if n == 0 else spec["timeout"])
        while not CheckRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            if time.perf_counter() > limit:
                raise SystemExit(f"run {run.pk} not finished within the timeout: is the worker up?")
            time.sleep(0.002)
        wall_ms.append((time.perf_counter() - started) * 1000)
        ids.append(run.pk)
    return {"ids": ids, "wall_ms": wall_ms}


def child_burst(spec: dict) -> dict:
    """Create ``count`` Step-1 runs in bulk, queue one task per run, wait for all to finish."""
    from datetime import timedelta

    from django.db.models import Count, Max, Min, Q
    from django.utils import timezone

    from apps.checks.models import CheckRun
    from apps.checks.services.queueing import CLICKS_QUEUE, task_time_limits
    from apps.checks.tasks import run_checks

    diagnosis = _bench_diagnosis(spec, ORDER_NUMBER)
    now = timezone.now()
    # A deadline and expiry well past the burst: a slow worker shows as a low rate, not lost runs.
    deadline = now + timedelta(seconds=spec["timeout"] + 60)
    runs = CheckRun.objects.bulk_create(
        _new_run(diagnosis, STEP_CHECK_KEY, spec["block_id"], now, deadline) for _ in range(spec["count"])
    )
    ids = [run.pk for run in runs]
    soft, hard = task_time_limits()
    first_enqueue = timezone.now()
    started = time.perf_counter()
    for pk in ids:
        # Where a click's check goes; a longer expiry than a click's: the whole burst is queued before
        # the worker drains it.
        run_checks.apply_async(
            ([pk],),
            queue=CLICKS_QUEUE,
            expires=int(spec["timeout"]) + 60,
            soft_time_limit=soft,
            time_limit=hard,
        )
    enqueue_s = time.perf_counter() - started
    limit = started + spec["timeout"]
    mine = CheckRun.objects.filter(diagnosis=diagnosis)
    while mine.filter(finished_at__isnull=True).exists():
        if time.perf_counter() > limit:
            break
        time.sleep(0.05)
    figures = mine.aggregate(
        finished=Count("pk", filter=Q(finished_at__isnull=False)),
        passed=Count("pk", filter=Q(status="passed")),
        first_start=Min("started_at"),
        last_finish=Max("finished_at"),
    )
    last = figures["last_finish"]
    return {
        "count": len(ids),
        "finished": figures["finished"],
        "passed": figures["passed"],
        "enqueue_s": enqueue_s,
        "wall_s": (last - first_enqueue).total_seconds() if last else None,
        "first_pickup_s": (figures["first_start"] - first_enqueue).total_seconds()
        if figures["first_start"]
        else None,
        "first_id": ids[0],
        "last_id": ids[-1],
    }


def child_main(kind: str, spec: dict) -> int:
    django_setup()
    result = child_noop(spec) if kind == "noop" else child_burst(spec)
    print(json.dumps(result, default=str))
    return 0


# --- Figures ----------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), as people read "p95"."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def dist(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "max": max(values) if values else float("nan"),
    }


def fmt(d: dict, unit: str = "ms") -> str:
    return (
        f"p50 {d['p50']:7.1f} {unit}   p95 {d['p95']:7.1f} {unit}   max {d['max']:7.1f} {unit}   (n={d['n']})"
    )


def task_breakdown(runs: list[dict]) -> dict:
    """Per task: queue wait (queued -> first start) and the task's span (first start -> last finish)."""
    tasks: dict[str, list[dict]] = {}
    for run in runs:
        if run["started"] and run["finished"]:
            tasks.setdefault(run["task_id"] or str(run["id"]), []).append(run)
    wait = [(min(r["started"] for r in t) - min(r["queued"] for r in t)) * 1000 for t in tasks.values()]
    span = [(max(r["finished"] for r in t) - min(r["started"] for r in t)) * 1000 for t in tasks.values()]
    total = [(max(r["finished"] for r in t) - min(r["queued"] for r in t)) * 1000 for t in tasks.values()]
    return {"queue_wait": dist(wait), "task_span": dist(span), "queued_to_finished": dist(total)}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run_bench(args: argparse.Namespace, env: dict[str, str], base_url: str, worker, worker_log: Path) -> dict:
    figures: dict = {"loadavg": {}}
    spec_base = {"timeout": args.timeout, "first_timeout": 60.0}

    browser = Browser(base_url, timeout=args.timeout)
    try:
        sign_in(browser)
        article = read_article(browser)
        log(
            f"article page {article.page_id}, plugin {article.subject_id} ({PLUGIN_NAME}), "
            f"Step 1 block {article.block_id}"
        )
        spec = {**spec_base, "page_id": int(article.page_id), "subject_id": int(article.subject_id)}

        # Reference, and the proof the worker is up: runs of a check key nobody registered.
        log("waiting for the Celery worker (a first round trip)")
        noop = child(
            "noop", {**spec, "count": 1 + args.noop_samples}, env, 120 + args.noop_samples, worker, worker_log
        )
        if args.noop_samples:
            noop_runs = runs_between(args.db_name, noop["ids"][1] - 1, noop["ids"][-1])
            figures["noop"] = {
                "wall": dist(noop["wall_ms"][1:]),
                **task_breakdown(noop_runs),
            }

        log(f"warm-up: {args.warmup} clicks")
        for _ in range(args.warmup):
            click(browser, article, args.timeout)

        log(f"click-to-result: {args.samples} clicks on Step 1, one after the other")
        before = last_run_id(args.db_name)
        samples = []
        for n in range(args.samples):
            sample = click(browser, article, args.timeout)
            if sample.status != "passed":
                raise BenchError(f"Step 1 for {PLUGIN_NAME} should pass, but it is {sample.status!r}")
            samples.append(sample)
            if (n + 1) % 50 == 0:
                log(f"  {n + 1} clicks, p50 so far {pct([s.total_ms for s in samples], 50):.1f} ms")
        after = last_run_id(args.db_name)
        runs = runs_between(args.db_name, before, after)
        step_runs = [r for r in runs if r["check_key"] == STEP_CHECK_KEY]
        quarter = max(1, len(samples) // 4)
        figures["click"] = {
            "total": dist([s.total_ms for s in samples]),
            "post": dist([s.post_ms for s in samples]),
            "poll_get": dist([ms for s in samples for ms in s.poll_ms]),
            "polls_per_click": {
                str(k): sum(1 for s in samples if len(s.poll_ms) == k)
                for k in sorted({len(s.poll_ms) for s in samples})
            },
            "first_quarter_p50": pct([s.total_ms for s in samples[:quarter]], 50),
            "last_quarter_p50": pct([s.total_ms for s in samples[-quarter:]], 50),
            "first_quarter_post_p50": pct([s.post_ms for s in samples[:quarter]], 50),
            "last_quarter_post_p50": pct([s.post_ms for s in samples[-quarter:]], 50),
            "runs": len(runs),
            **task_breakdown(runs),
        }
        figures["task"] = dist([r["task_seconds"] * 1000 for r in step_runs if r["task_seconds"] is not None])
        figures["task_all_keys"] = dist(
            [r["task_seconds"] * 1000 for r in runs if r["task_seconds"] is not None]
        )

        log(f'"check every step": {args.all_samples} samples')
        for _ in range(min(args.warmup, 2)):
            check_every_step(browser, article, args.timeout)
        before = last_run_id(args.db_name)
        every = [check_every_step(browser, article, args.timeout) for _ in range(args.all_samples)]
        after = last_run_id(args.db_name)
        all_runs = runs_between(args.db_name, before, after)
        figures["all"] = {
            "total": dist([s.total_ms for s in every]),
            "post": dist([s.post_ms for s in every]),
            "poll_get": dist([ms for s in every for ms in s.poll_ms]),
            "polls_per_sample": dist([float(len(s.poll_ms)) for s in every]),
            "runs": len(all_runs),
            "task_seconds_by_key": {
                key: dist([r["task_seconds"] * 1000 for r in all_runs if r["check_key"] == key])
                for key in sorted({r["check_key"] for r in all_runs})
            },
            **task_breakdown(all_runs),
        }

        log(f"without JavaScript: {args.nojs_samples} starts of Step 1, then of every step")
        click_without_javascript(browser, article, args.timeout, every_step=False)  # warm-up
        for every_step in (False, True):
            nojs = [
                click_without_javascript(browser, article, args.timeout, every_step=every_step)
                for _ in range(args.nojs_samples)
            ]
            figures["nojs_all" if every_step else "nojs"] = {
                "total": dist([s.total_ms for s in nojs]),
                "post": dist([s.post_ms for s in nojs]),
                "article_get": dist([ms for s in nojs for ms in s.poll_ms]),
                "loads_per_sample": dist([float(len(s.poll_ms)) for s in nojs]),
            }
        if args.second_samples:
            figures["second"] = second_article(browser, args)
        if args.german_samples:
            figures["german"] = german_article(browser, args)
    finally:
        browser.close()

    log(f"burst: {args.burst} runs, one task each, into one worker (--concurrency={args.concurrency})")
    cpu_before = process_tree_cpu_seconds(worker.pid)
    sessions_before = pg_sessions(args.db_name)
    burst = child(
        "burst",
        {**spec, "count": args.burst, "block_id": article.block_id, "timeout": args.burst_timeout},
        env,
        args.burst_timeout + 120,
        worker,
        worker_log,
    )
    worker_cpu = process_tree_cpu_seconds(worker.pid) - cpu_before
    time.sleep(0.5)  # the last backends' exits reach the statistics
    # Includes a few of the bench's own (the child's, these look-ups): negligible per task.
    burst["pg_sessions"] = pg_sessions(args.db_name) - sessions_before
    burst_runs = runs_between(args.db_name, burst["first_id"] - 1, burst["last_id"])
    burst["checks_per_s"] = burst["count"] / burst["wall_s"] if burst["finished"] == burst["count"] else 0.0
    burst["worker_cpu_ms_per_check"] = worker_cpu * 1000 / max(1, burst["finished"])
    burst["task_seconds"] = dist(
        [r["task_seconds"] * 1000 for r in burst_runs if r["task_seconds"] is not None]
    )
    figures["burst"] = burst
    figures["loadavg"]["after"] = os.getloadavg()[0]
    return figures


def second_article(browser: Browser, args: argparse.Namespace) -> dict:
    """The second article (its own check set), measured as the first: Step 1 clicks, then every step."""
    article = read_article(browser, SECOND_PATH, SECOND_STEP_CHECK_KEY, SECOND_STEPS)
    log(
        f"second article {SECOND_PATH}: {args.second_samples} clicks on Step 1, {args.second_all_samples} every step"
    )
    for _ in range(args.warmup):
        click(browser, article, args.timeout)
    clicks = [click(browser, article, args.timeout) for _ in range(args.second_samples)]
    statuses = {s.status for s in clicks}
    if len(statuses) != 1 or statuses & IN_FLIGHT:
        raise BenchError(f"Step 1 of {SECOND_PATH} should end the same way every time; it ended {statuses}")
    check_every_step(browser, article, args.timeout)
    every = [check_every_step(browser, article, args.timeout) for _ in range(args.second_all_samples)]
    return {
        "click": dist([s.total_ms for s in clicks]),
        "click_status": statuses.pop(),
        "all": dist([s.total_ms for s in every]),
    }


def german_article(browser: Browser, args: argparse.Namespace) -> dict:
    """The first article's German translation: Step 1 clicked as on the English one, in German."""
    article = read_article(browser, GERMAN_PATH)
    log(f"German article {GERMAN_PATH}: {args.german_samples} clicks on Step 1")
    for _ in range(args.warmup):
        click(browser, article, args.timeout)
    clicks = [click(browser, article, args.timeout) for _ in range(args.german_samples)]
    statuses = {s.status for s in clicks}
    if len(statuses) != 1 or statuses & IN_FLIGHT:
        raise BenchError(f"Step 1 of {GERMAN_PATH} should end the same way every time; it ended {statuses}")
    return {"click": dist([s.total_ms for s in clicks]), "click_status": statuses.pop()}


def report(figures: dict, args: argparse.Namespace) -> bool:
    click_f, task, every, burst = figures["click"], figures["task"], figures["all"], figures["burst"]
    print()
    print("=== Check this now: figures ===")
    load = figures.get("loadavg", {})
    print(
        f"machine: {os.cpu_count()} CPUs; 1-min load average {load.get('before', 0):.2f} before the bench "
        f"started, {load.get('after', 0):.2f} at the end (anything else running skews every figure)"
    )
    if "noop" in figures:
        noop = figures["noop"]
        print("reference: framework round trip (unregistered check, ORM enqueue -> finished_at)")
        print(f"  queued -> finished      {fmt(noop['queued_to_finished'])}")
        print(f"  queue wait (to start)   {fmt(noop['queue_wait'])}")
        print(f"  seen finished by poller {fmt(noop['wall'])}")
    print(f"1. click-to-result, Step 1 ({STEP_CHECK_KEY}), {args.samples} clicks")
    print(f"  click -> result         {fmt(click_f['total'])}")
    print(f"  POST /checks/start/     {fmt(click_f['post'])}")
    print(f"  GET poll                {fmt(click_f['poll_get'])}")
    print(f"  polls per click         {click_f['polls_per_click']}")
    print(f"  task: queue wait        {fmt(click_f['queue_wait'])}")
    print(f"  task: span (2 runs)     {fmt(click_f['task_span'])}")
    print(f"  task: queued -> done    {fmt(click_f['queued_to_finished'])}")
    print(
        f"  drift: p50 first/last quarter {click_f['first_quarter_p50']:.1f} / {click_f['last_quarter_p50']:.1f} ms"
        f" (POST {click_f['first_quarter_post_p50']:.1f} / {click_f['last_quarter_post_p50']:.1f} ms;"
        " every click adds its runs to the same diagnosis)"
    )
    print("2. the check task's own time (checks_checkrun.task_seconds)")
    print(f"  {STEP_CHECK_KEY:22}  {fmt(task)}")
    print(f"  (with already-here)     {fmt(figures['task_all_keys'])}")
    print(f'3. "check every step" (7 steps + already-here), {args.all_samples} samples')
    print(f"  click -> done           {fmt(every['total'])}")
    print(f"  POST /checks/start/     {fmt(every['post'])}")
    print(f"  GET summary poll        {fmt(every['poll_get'])}")
    print(f"  polls per sample        {fmt(every['polls_per_sample'], unit='  ')}")
    print(f"  task: queue wait        {fmt(every['queue_wait'])}")
    print(f"  task: span (8 runs)     {fmt(every['task_span'])}")
    for key, d in every["task_seconds_by_key"].items():
        print(f"    {key:22}  {fmt(d)}")
    print(f"4. burst: {burst['count']} runs, one per task, one worker --concurrency={args.concurrency}")
    wall = f"{burst['wall_s']:.2f} s" if burst["wall_s"] else "n/a"
    print(
        f"  finished {burst['finished']} of {burst['count']} ({burst['passed']} passed) in {wall}; "
        f"enqueueing took {burst['enqueue_s']:.2f} s"
    )
    print(f"  checks/s                {burst['checks_per_s']:.1f}")
    print(f"  worker CPU per check    {burst['worker_cpu_ms_per_check']:.2f} ms")
    print(
        f"  new PostgreSQL sessions {burst['pg_sessions']} "
        f"(~{burst['pg_sessions'] / max(1, burst['finished']):.2f} per task; reused connections: ~0)"
    )
    print(f"  task_seconds            {fmt(burst['task_seconds'])}")
    for key, title in (("nojs", "Step 1"), ("nojs_all", '"check every step"')):
        nojs = figures[key]
        print(f"{'5' if key == 'nojs' else '6'}. without JavaScript, {title}, {args.nojs_samples} samples")
        print(f"  click -> result page    {fmt(nojs['total'])}")
        print(f"  POST (answers 302)      {fmt(nojs['post'])}")
        print(f"  GET the article         {fmt(nojs['article_get'])}")
        print(f"  article loads           {fmt(nojs['loads_per_sample'], unit='  ')}")

    second = figures.get("second")
    if second:
        print(f"7. the second article ({SECOND_PATH}, its own check set), beside the first")
        print(f"  Step 1 click -> result  {fmt(second['click'])}  ({second['click_status']})")
        print(f"    first article's       {fmt(click_f['total'])}")
        print(f"  every step -> done      {fmt(second['all'])}")
        print(f"    first article's       {fmt(every['total'])}")

    german = figures.get("german")
    if german:
        print(f"8. the German article ({GERMAN_PATH}), Step 1 beside the English one")
        print(f"  click -> result         {fmt(german['click'])}  ({german['click_status']})")
        print(f"    English article's     {fmt(click_f['total'])}")

    results = [
        (
            click_f["total"]["p50"] <= TARGETS["click_p50_ms"],
            f"click-to-result p50 {click_f['total']['p50']:.1f} ms (target <= 150 ms)",
        ),
        (
            click_f["total"]["p95"] <= TARGETS["click_p95_ms"],
            f"click-to-result p95 {click_f['total']['p95']:.1f} ms (target <= 400 ms)",
        ),
        (task["p50"] <= TARGETS["task_p50_ms"], f"check task p50 {task['p50']:.2f} ms (target <= 10 ms)"),
        (
            every["total"]["p95"] <= TARGETS["all_p95_ms"],
            f"check every step p95 {every['total']['p95']:.1f} ms (target <= 1 s)",
        ),
        (
            figures["nojs"]["total"]["p95"] <= TARGETS["nojs_p95_ms"],
            f"without JavaScript, Step 1 p95 {figures['nojs']['total']['p95']:.1f} ms (target <= 2.5 s)",
        ),
        (
            figures["nojs_all"]["total"]["p95"] <= TARGETS["nojs_p95_ms"],
            f"without JavaScript, every step p95 {figures['nojs_all']['total']['p95']:.1f} ms (target <= 2.5 s)",
        ),
        (
            burst["checks_per_s"] >= TARGETS["checks_per_s"],
            f"one worker {burst['checks_per_s']:.1f} checks/s (target >= 100)",
        ),
    ]
    if second:
        results += [
            (
                second["click"]["p95"] <= TARGETS["click_p95_ms"],
                f"second article: click-to-result p95 {second['click']['p95']:.1f} ms (target <= 400 ms)",
            ),
            (
                second["all"]["p95"] <= TARGETS["all_p95_ms"],
                f"second article: check every step p95 {second['all']['p95']:.1f} ms (target <= 1 s)",
            ),
        ]
    if german:
        results.append(
            (
                german["click"]["p95"] <= TARGETS["click_p95_ms"],
                f"German article: click-to-result p95 {german['click']['p95']:.1f} ms (target <= 400 ms)",
            )
        )
    print()
    for ok, line in results:
        print(f"{verdict(ok)}  {line}")
    passed = all(ok for ok, _ in results)
    print(verdict(passed))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"figures": figures, "targets": TARGETS, "passed": passed}, indent=2))
    return passed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args.child, json.loads(args.spec))

    load_before = os.getloadavg()[0]  # others' load: this bench has not started anything yet
    port = args.port or free_port()
    cache_prefix = f"kt-bench-checks-{secrets.token_hex(4)}"
    env = server_environment(args, cache_prefix, CHECK_STARTS_PER_MINUTE="100000")
    broker_url, cache_url = env["CELERY_BROKER_URL"], env["REDIS_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-bench-checks-"))
    gunicorn_log, worker_log = workdir / "gunicorn.log", workdir / "worker-clicks.log"
    server = None
    workers: dict = {}
    database_created = False
    throttle_before: set[bytes] = set()
    redis_claimed = failed = False
    try:
        throttle_before = throttle_keys(cache_url)
        broker_db_claim(broker_url)
        redis_claimed = True
        log(
            f"database {args.db_name} (drop + create), broker {broker_url}, cache {cache_url} prefix {cache_prefix}"
        )
        database_recreate(args.db_name)
        database_created = True
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "demo_setup", "--base-url", f"http://{HOST}:{port}")

        server = gunicorn_start(env, port, args.workers, gunicorn_log, threads=args.gunicorn_threads)
        # A click's check runs on the clicks lane's worker, the one measured; "Check every step" on the
        # interactive one, and bulk is there as in production.
        workers = celery_workers_start(
            env,
            workdir,
            name="bench-checks",
            concurrency={"clicks": args.concurrency, "interactive": args.concurrency, "bulk": 1},
        )
        worker = workers["clicks"]
        wait_until_serving(server, port, gunicorn_log, timeout=60)
        figures = run_bench(args, env, f"http://{HOST}:{port}", worker, worker_log)
        figures["loadavg"]["before"] = load_before
        if server.poll() is not None or any(w.poll() is not None for w in workers.values()):
            raise BenchError("gunicorn or a worker died during the run")
        return 0 if report(figures, args) else 1
    except BenchError as exc:
        print(f"[bench] ERROR: {exc}", file=sys.stderr, flush=True)
        print(f"[bench] logs: {workdir}", file=sys.stderr, flush=True)
        failed = True
        return 2
    finally:
        for name, process in (*((f"{q} worker", w) for q, w in workers.items()), ("gunicorn", server)):
            if process is not None:
                process_stop(process)
                log(f"{name} stopped")
        if args.keep:
            log(
                f"kept database {args.db_name}, broker {broker_url}, cache prefix {cache_prefix}; logs in {workdir}"
            )
        else:
            if database_created:
                database_drop(args.db_name)
            removed = 0
            if redis_claimed:  # never touch a Redis db this run did not make sure was its own
                # The platform throttle's keys ignore CACHE_KEY_PREFIX: delete the new ones too.
                new_throttle = throttle_keys(cache_url) - throttle_before
                removed = broker_keys_delete(broker_url) + cache_keys_delete(
                    cache_url, cache_prefix, also=new_throttle
                )
            if not failed:
                shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {args.db_name}, deleted {removed} Redis keys")


if __name__ == "__main__":
    sys.exit(main())
