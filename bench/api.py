"""Benchmark: a diagnosis through the JSON API and the MCP server against the page's own "Check every step".

Targets: the diagnosis of demo order #1004 (Step 4, a missing SKU) from start
to result, through the API (start, then read until done) and through the MCP
tool ``diagnose_order`` (one call), p50 and p95 within 20 % of the page's own
click-to-result for "Check every step", measured in the same run. Also the
requests/s of reading an article as JSON with a token, beside the HTML article
a reader gets, for scale.

What it does, all on 127.0.0.1 and nothing else:

1. drops and creates a fresh PostgreSQL database (``kitty_bench_api``); Redis
   db 9 is the Celery broker (it must be empty or hold only Celery's keys) and
   db 10 the cache, under a key prefix of its own;
2. runs ``migrate``, ``collectstatic`` and ``demo_setup``, then makes a token
   of the demo merchant's (first, main) account with the ``diagnose`` scope,
   as a script does: ``manage.py api_token create merchant --scope diagnose``;
3. starts the production-shaped stack, as docker-compose.yml runs it: the
   nginx front of deploy/nginx in front of three gunicorns (DEBUG=0): web
   (2 gthread workers x 4 threads by default), web-diagnoses ("Check every
   step" and its summary's looks; 1 worker x 4 threads) and web-api (/api/
   and /mcp; 1 worker x 16 threads), and one Celery worker per queue
   (interactive on 16 threads, bulk 1), with CHECK_STARTS_PER_MINUTE=100000
   so the per-user start limit stays out of the way;
4. measures, one diagnosis at a time, the doors taking turns (so a busy
   stretch of the machine falls on each alike), after two unmeasured rounds:

   * the page: signed in over HTTP as ``merchant``, as htmx does, POSTs the
     "Check every step" button's ``hx-post`` (Main store, order #1004) and
     follows the summary's ``hx-get`` after the delay its ``hx-trigger``
     names, until ``data-summary-status="done"``;
   * the API, start then read: POST /api/v1/diagnoses, then GET
     /api/v1/diagnoses/{id} until ``done``, waiting between reads what the
     page's summary waited between its looks (the same schedule, so the two
     doors look equally often);
   * the API, start then one long read: POST, then GET
     /api/v1/diagnoses/{id}?wait=20, answered once every check has ended;
   * the MCP server: one ``diagnose_order`` call through the ``mcp`` SDK's
     client (streamable HTTP, a session opened before the clock starts);

   each answer must name Step 4 as the cause;
5. reads, with ``wrk -t1 -c4`` for ``--duration`` seconds each, the article as
   JSON (GET /api/v1/articles/order-did-not-import with the token: web-api,
   never cached) and the HTML article anonymously (the front's cache, as
   readers get it), and the JSON one's web-api CPU time per request;
6. prints the figures, the load average before and after (other work on this
   2-core machine slows every figure), and PASS/FAIL, then stops everything,
   drops the database and deletes its Redis keys (unless ``--keep``).

Run from the repository root::

    uv run python bench/api.py
    uv run python bench/api.py --samples 20 --duration 5      # a quick look

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
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from article_page import WRK_REPORT_LUA, WrkResult
from checks import (
    PLUGIN_NAME,
    Browser,
    broker_db_claim,
    broker_keys_delete,
    dist,
    fmt,
    pct,
    read_article,
    sign_in,
    summary_state,
    throttle_keys,
    verdict,
)
from stack import (
    HOST,
    REPO,
    BenchError,
    add_stack_arguments,
    cache_keys_delete,
    celery_workers_start,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_start,
    log,
    manage,
    process_stop,
    process_tree_cpu_seconds,
    server_environment,
    wait_until_serving,
)

sys.path.insert(0, str(REPO))
from deploy import nginx_local  # noqa: E402  (the production front, deploy/nginx)

ARTICLE_SLUG = "order-did-not-import"
ARTICLE_PATH = f"/help/{ARTICLE_SLUG}/"
ORDER_NUMBER = "1004"
CAUSE_STEP = 4  # 1004's line has a SKU the catalog does not have
WAIT_SECONDS = 20  # the API's longest ?wait=
TARGET_RATIO = 1.2  # within 20 % of the page
DOORS = ("page", "api_poll", "api_wait", "mcp")
DOOR_NAMES = {
    "page": 'page: "Check every step"',
    "api_poll": "API: start, then read",
    "api_wait": "API: start, then ?wait=",
    "mcp": "MCP: diagnose_order",
}
# The doors held to the target: the "start, then poll" and the MCP tool's one call.
HELD_TO_TARGET = ("api_poll", "mcp")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure a diagnosis through the JSON API and the MCP server against the page's own "
            '"Check every step", and reading an article as JSON, on the production-shaped stack '
            "(nginx, gunicorn, Celery, PostgreSQL, Redis). Talks to 127.0.0.1 only."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--samples", type=int, default=40, help="diagnoses through each door")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured rounds (one diagnosis per door)")
    parser.add_argument("--duration", type=int, default=10, help="seconds wrk reads each article")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--api-threads", type=int, default=16, help="threads of the web-api gunicorn")
    parser.add_argument(
        "--diagnoses-nice",
        type=int,
        default=0,
        help=(
            "nice of web-diagnoses (compose gives it half the CPU weight, about nice 3; 0 here, so "
            "the page's door is not slowed by other people's work on a shared machine)"
        ),
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="threads of each checks worker (clicks, interactive)"
    )
    add_stack_arguments(parser, db_name="kitty_bench_api", redis_db=10, broker_db=9)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds one diagnosis may take")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database, the Redis keys and the logs afterwards"
    )
    args = parser.parse_args(argv)
    if args.broker_db == args.redis_db:
        parser.error("--broker-db and --redis-db must differ")
    for name in ("samples", "duration", "connections", "workers", "api_threads", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


# --- The doors ----------------------------------------------------------------


@dataclass
class Sample:
    total_ms: float
    start_ms: float  # the POST (the page's, the API's) or the whole call (MCP)
    looks: int = 0  # reads after the start


@dataclass
class Page:
    """The signed-in merchant's browser on the article, and what "Check every step" posts."""

    browser: Browser
    data: dict
    every_step_url: str
    # The delays (ms) the summary named before each of its looks, longest sequence seen: the API's reads
    # wait the same, so both doors look at the diagnosis equally often.
    looks_ms: list[int] = field(default_factory=list)


def page_open(base_url: str, timeout: float) -> Page:
    browser = Browser(base_url, timeout=timeout)
    sign_in(browser)
    article = read_article(browser)
    body = browser.get(ARTICLE_PATH).text
    button = re.search(r'<button[^>]*id="check-every-step"[^>]*hx-post="([^"]+)"', body, re.S)
    if button is None:
        raise BenchError(f"{ARTICLE_PATH} has no 'Check every step' button with an hx-post")
    data = {
        "page": article.page_id,
        "subject": article.subject_id,
        "order_number": ORDER_NUMBER,
        "placed_date": "",
        "all": "1",
    }
    return Page(browser, data, html.unescape(button.group(1)))


def page_diagnosis(page: Page, timeout: float) -> Sample:
    """One press of "Check every step", followed as htmx does until the summary is done."""
    started = time.perf_counter()
    response = page.browser.post(page.every_step_url, page.data, htmx=True)
    start_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise BenchError(
            f"POST {page.every_step_url} answered {response.status_code}:\n{response.text[:1500]}"
        )
    state, delays, body = summary_state(response.text), [], response.text
    while state.status != "done":
        if not state.url or time.perf_counter() - started > timeout:
            raise BenchError(f"the summary is still {state.status!r} after {timeout:.0f} s")
        delays.append(state.delay_ms)
        time.sleep(state.delay_ms / 1000)
        response = page.browser.get(state.url, htmx=True)
        if response.status_code != 200:
            raise BenchError(f"GET {state.url} answered {response.status_code}")
        state, body = summary_state(response.text), response.text
    total_ms = (time.perf_counter() - started) * 1000
    if not re.search(rf'href="[^"]*#step-{CAUSE_STEP}"', body):
        raise BenchError(f"the page's summary of #{ORDER_NUMBER} does not point at Step {CAUSE_STEP}")
    if len(delays) > len(page.looks_ms):
        page.looks_ms = delays
    return Sample(total_ms, start_ms, len(delays))


class Api:
    """A support bot's HTTP client of the JSON API, with the token."""

    def __init__(self, base_url: str, token: str, timeout: float):
        self.client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        # The plugin a diagnosis names, as a bot finds it: in the token's account's list of plugins.
        plugins = self.client.get("/api/v1/plugins")
        ids = [p["id"] for p in plugins.json() if p["name"] == PLUGIN_NAME] if plugins.is_success else []
        if not ids:
            raise BenchError(f"GET /api/v1/plugins answered {plugins.status_code} without {PLUGIN_NAME!r}")
        self.plugin_id = ids[0]
        self.body = {
            "article": ARTICLE_SLUG,
            "plugin_id": self.plugin_id,
            "inputs": {"order_number": ORDER_NUMBER},
        }
        self.timeout = timeout

    def close(self) -> None:
        self.client.close()

    def _start(self) -> dict:
        response = self.client.post("/api/v1/diagnoses", json=self.body)
        if response.status_code != 202:
            raise BenchError(
                f"POST /api/v1/diagnoses answered {response.status_code}: {response.text[:1500]}"
            )
        return response.json()

    def _read(self, diagnosis_id: str, **params) -> dict:
        response = self.client.get(f"/api/v1/diagnoses/{diagnosis_id}", params=params)
        if response.status_code != 200:
            raise BenchError(f"GET /api/v1/diagnoses/{diagnosis_id} answered {response.status_code}")
        return response.json()

    def diagnosis_polled(self, looks_ms: list[int]) -> Sample:
        """Start, then read until done, waiting between reads what the page waited between its looks."""
        started = time.perf_counter()
        diagnosis = self._start()
        start_ms = (time.perf_counter() - started) * 1000
        looks = 0
        while not diagnosis["done"]:
            if time.perf_counter() - started > self.timeout:
                raise BenchError(f"the API's diagnosis is not done after {self.timeout:.0f} s")
            delay = looks_ms[min(looks, len(looks_ms) - 1)] if looks_ms else 100
            time.sleep(delay / 1000)
            diagnosis = self._read(diagnosis["id"])
            looks += 1
        return self._checked(diagnosis, started, start_ms, looks)

    def diagnosis_waited(self) -> Sample:
        """Start, then one read that answers once every check has ended."""
        started = time.perf_counter()
        diagnosis = self._start()
        start_ms = (time.perf_counter() - started) * 1000
        looks = 0
        if not diagnosis["done"]:
            diagnosis = self._read(diagnosis["id"], wait=WAIT_SECONDS)
            looks = 1
        return self._checked(diagnosis, started, start_ms, looks)

    @staticmethod
    def _checked(diagnosis: dict, started: float, start_ms: float, looks: int) -> Sample:
        total_ms = (time.perf_counter() - started) * 1000
        if not diagnosis["done"] or diagnosis["summary"]["cause_step"] != CAUSE_STEP:
            raise BenchError(f"the API's diagnosis of #{ORDER_NUMBER} does not end at Step {CAUSE_STEP}")
        return Sample(total_ms, start_ms, looks)


# --- The MCP door -------------------------------------------------------------------


def mcp_diagnosis(url: str, token: str, plugin_id: int, timeout: float) -> Sample:
    """One ``diagnose_order`` call through the official SDK's client; the session is opened before the clock starts.

    Each call opens its own session (initialize, then the call), as an agent's
    conversation would; only the call is timed, as only the click is on the page.
    """
    import anyio
    import httpx2
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run() -> Sample:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout), trust_env=False) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            started = time.perf_counter()
            result = await session.call_tool(
                "diagnose_order", {"plugin_id": plugin_id, "order_number": ORDER_NUMBER}
            )
            total_ms = (time.perf_counter() - started) * 1000
        found = result.structured_content or {}
        if result.is_error or not found.get("done") or found["summary"]["cause_step"] != CAUSE_STEP:
            words = " ".join(getattr(block, "text", "") for block in result.content)
            raise BenchError(f"diagnose_order did not end at Step {CAUSE_STEP}: {words[:1500]}")
        return Sample(total_ms, total_ms)

    return anyio.run(run)


# --- Reading an article -------------------------------------------------------------


def wrk_read(
    url: str, *, seconds: int, connections: int, workdir: Path, headers: dict[str, str]
) -> WrkResult:
    """``wrk -t1`` on ``url`` for ``seconds``, sending ``headers``; the figures its report script prints."""
    script = workdir / f"wrk-{secrets.token_hex(3)}.lua"
    lines = [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join([*lines, WRK_REPORT_LUA]))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed (exit {result.returncode}): {result.stderr or result.stdout}")
    match = re.search(r"^BENCH_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
    figures = WrkResult(**json.loads(match.group(1)))
    if figures.non_2xx_3xx or figures.connect_errors or figures.read_errors or figures.timeouts:
        raise BenchError(f"reading {url} failed: {figures}")
    return figures


def reading(front: str, web: str, token: str, args: argparse.Namespace, workdir: Path, api_pid: int) -> dict:
    """Requests/s of the article as JSON with a token, and of the HTML article from the front and from the app."""
    json_url = f"{front}/api/v1/articles/{ARTICLE_SLUG}"
    check = httpx.get(json_url, headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=10)
    if check.status_code != 200 or len(check.json().get("steps", [])) != 7:
        raise BenchError(f"GET {json_url} answered {check.status_code}: {check.text[:500]}")
    figures = {}
    for name, url, headers in (
        ("json", json_url, {"Authorization": f"Bearer {token}", "Accept": "application/json"}),
        ("html_front", f"{front}{ARTICLE_PATH}", {"Accept": "text/html"}),
        ("html_app", f"{web}{ARTICLE_PATH}", {"Accept": "text/html"}),
    ):
        wrk_read(url, seconds=2, connections=args.connections, workdir=workdir, headers=headers)  # warm-up
        log(f"reading {url} for {args.duration} s (wrk -t1 -c{args.connections})")
        cpu_before = process_tree_cpu_seconds(api_pid)
        result = wrk_read(
            url, seconds=args.duration, connections=args.connections, workdir=workdir, headers=headers
        )
        cpu = process_tree_cpu_seconds(api_pid) - cpu_before
        figures[name] = {
            "requests_per_s": result.requests / (result.duration_us / 1e6),
            "p50_ms": result.p50_us / 1000,
            "p99_ms": result.p99_us / 1000,
            "web_api_cpu_ms_per_request": cpu * 1000 / max(1, result.requests),
        }
    return figures


# --- The run --------------------------------------------------------------------------


def run_bench(
    args: argparse.Namespace, front: str, web: str, token: str, workdir: Path, api_pid: int
) -> dict:
    """The diagnoses through each door in turns, then the article read; ``front`` is nginx, ``web`` web's gunicorn."""
    figures: dict = {"loadavg": {"before": os.getloadavg()[0]}}
    page = page_open(front, args.timeout)
    api = Api(front, token, args.timeout)
    plugin_id = api.plugin_id
    log(f"token of the demo merchant's main account; {PLUGIN_NAME} is plugin {plugin_id}")
    mcp_url = f"{front}/mcp/"
    samples: dict[str, list[Sample]] = {door: [] for door in DOORS}
    try:
        log(
            f"warm-up: {args.warmup} rounds, then {args.samples} diagnoses of #{ORDER_NUMBER} through each door"
        )
        for n in range(args.warmup + args.samples):
            # The doors take turns, so a busy stretch of the machine falls on each alike.
            round_ = {
                "page": page_diagnosis(page, args.timeout),
                "api_poll": api.diagnosis_polled(page.looks_ms),
                "api_wait": api.diagnosis_waited(),
                "mcp": mcp_diagnosis(mcp_url, token, plugin_id, args.timeout),
            }
            if n >= args.warmup:
                for door, sample in round_.items():
                    samples[door].append(sample)
            if n >= args.warmup and (n - args.warmup + 1) % 10 == 0:
                so_far = ", ".join(
                    f"{door} {pct([s.total_ms for s in samples[door]], 50):.0f}" for door in DOORS
                )
                log(f"  {n - args.warmup + 1} rounds, p50 so far (ms): {so_far}")
    finally:
        page.browser.close()
        api.close()
    for door, taken in samples.items():
        figures[door] = {
            "total": dist([s.total_ms for s in taken]),
            "start": dist([s.start_ms for s in taken]),
            "looks": dist([float(s.looks) for s in taken]),
            # Each diagnosis against the page's of the same round, a few hundred ms apart: the ratio
            # that another person's work on the machine disturbs least.
            "paired_ratio_p50": pct(
                [s.total_ms / p.total_ms for s, p in zip(taken, samples["page"], strict=True)], 50
            ),
        }
    figures["page_looks_ms"] = page.looks_ms
    figures["reading"] = reading(front, web, token, args, workdir, api_pid)
    figures["loadavg"]["after"] = os.getloadavg()[0]
    return figures


def report(figures: dict, args: argparse.Namespace) -> bool:
    page = figures["page"]["total"]
    print()
    print(f"Diagnosis of #{ORDER_NUMBER} (cause: Step {CAUSE_STEP}), start to result, {args.samples} each:")
    ok = True
    for door in DOORS:
        total = figures[door]["total"]
        line = f"  {DOOR_NAMES[door]:<28} {fmt(total)}"
        if door != "page":
            ratio50, ratio95 = total["p50"] / page["p50"], total["p95"] / page["p95"]
            held = door in HELD_TO_TARGET
            within = ratio50 <= TARGET_RATIO and ratio95 <= TARGET_RATIO
            ok = ok and (within or not held)
            line += f"   {ratio50:.2f}x / {ratio95:.2f}x the page"
            line += f"  {verdict(within)}" if held else "  (not a target)"
        print(line)
    paired = ", ".join(f"{DOOR_NAMES[d]} {figures[d]['paired_ratio_p50']:.2f}x" for d in DOORS if d != "page")
    print(f"  round by round against the page's diagnosis of the same round, median: {paired}")
    print("  their starts (the POST; MCP: the whole call):")
    for door in DOORS:
        print(f"    {DOOR_NAMES[door]:<26} {fmt(figures[door]['start'])}")
    print(
        f"  reads after the start, p50: page {figures['page']['looks']['p50']:.0f}, "
        f"API {figures['api_poll']['looks']['p50']:.0f} (waiting as the page did: {figures['page_looks_ms']} ms)"
    )
    print(f"Reading the article for {args.duration} s, wrk -t1 -c{args.connections}, through the front:")
    names = {
        "json": "JSON, with a token (web-api)",
        "html_front": "HTML, anonymous (front's cache)",
        "html_app": "HTML, anonymous (from web itself)",
    }
    for name, label in names.items():
        r = figures["reading"][name]
        cpu = f"   web-api CPU {r['web_api_cpu_ms_per_request']:.1f} ms/request" if name == "json" else ""
        print(
            f"  {label:<32} {r['requests_per_s']:8.0f} requests/s   p50 {r['p50_ms']:.1f} ms   "
            f"p99 {r['p99_ms']:.1f} ms{cpu}"
        )
    load = figures["loadavg"]
    print(f"1-minute load average: {load['before']:.2f} before, {load['after']:.2f} after (2 cores)")
    print(
        f"Target: start to result p50 and p95 within {TARGET_RATIO - 1:.0%} of the page's, "
        f"for {' and '.join(DOOR_NAMES[d] for d in HELD_TO_TARGET)}: {verdict(ok)}"
    )
    summary = {door: {k: round(v, 1) for k, v in figures[door]["total"].items()} for door in DOORS}
    print(json.dumps({"diagnosis_ms": summary, "reading": figures["reading"], "loadavg": load}, default=str))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if nginx_local.nginx_binary() is None or shutil.which("wrk") is None:
        print("[bench] needs nginx and wrk: apt-get install -y nginx-light wrk", file=sys.stderr)
        return 2

    web_port, diagnoses_port, api_port, front_port = (
        (args.port or free_port()),
        free_port(),
        free_port(),
        free_port(),
    )
    cache_prefix = f"kt-bench-api-{secrets.token_hex(4)}"
    env = server_environment(args, cache_prefix, CHECK_STARTS_PER_MINUTE="100000")
    broker_url, cache_url = env["CELERY_BROKER_URL"], env["REDIS_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-bench-api-"))
    servers: dict = {}
    workers: dict = {}
    front = None
    database_created = redis_claimed = failed = False
    throttle_before: set[bytes] = set()
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
        manage(env, "demo_setup", "--base-url", f"http://{HOST}:{front_port}")
        # As a script makes one: the token is the command's last line (never logged here).
        token = manage(env, "api_token", "create", "merchant", "--scope", "diagnose", "--name", "bench")

        # As docker-compose.yml: web, web-diagnoses and web-api, each a gunicorn of its own.
        for name, port, processes, threads, nice in (
            ("web", web_port, args.workers, args.gunicorn_threads, 0),
            ("web-diagnoses", diagnoses_port, 1, args.gunicorn_threads, args.diagnoses_nice),
            ("web-api", api_port, 1, args.api_threads, 0),
        ):
            logfile = workdir / f"gunicorn-{name}.log"
            servers[name] = (
                gunicorn_start(env, port, processes, logfile, threads=threads, nice=nice),
                port,
                logfile,
            )
        workers = celery_workers_start(
            env,
            workdir,
            name="bench-api",
            concurrency={"clicks": args.concurrency, "interactive": args.concurrency, "bulk": 1},
        )
        for process, port, logfile in servers.values():
            wait_until_serving(process, port, logfile, timeout=60)
        front = nginx_local.start(
            port=front_port,
            upstream_port=web_port,
            diagnoses_port=diagnoses_port,
            api_port=api_port,
            workdir=workdir / "nginx",
        )
        log(f"nginx on {HOST}:{front_port} in front of web, web-diagnoses and web-api (deploy/nginx)")
        figures = run_bench(
            args,
            f"http://{HOST}:{front_port}",
            f"http://{HOST}:{web_port}",
            token,
            workdir,
            servers["web-api"][0].pid,
        )
        if any(p.poll() is not None for p, _, _ in servers.values()) or any(
            w.poll() is not None for w in workers.values()
        ):
            raise BenchError("a gunicorn or a worker died during the run")
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
        for name, process in (
            *((f"{q} worker", w) for q, w in workers.items()),
            *((f"gunicorn {n}", p) for n, (p, _, _) in servers.items()),
        ):
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
                new_throttle = throttle_keys(cache_url) - throttle_before
                removed = broker_keys_delete(broker_url) + cache_keys_delete(
                    cache_url, cache_prefix, also=new_throttle
                )
            if not failed:
                shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {args.db_name}, deleted {removed} Redis keys")


if __name__ == "__main__":
    sys.exit(main())
