"""Benchmark: an anonymous reader loading the published article, against a baseline view.

Targets: the article serves at least 60% of the requests/s of a minimal Django
view (a static template, no queries) on the same server, and its p99 latency
stays under 50 ms.

What it does, all on 127.0.0.1 and nothing else:

1. drops and creates a fresh PostgreSQL database (``kitty_bench_article`` on
   127.0.0.1:5432, user ``root``, trust auth) and uses Redis db 3 for the cache
   (db 4 as the Celery broker URL, so the settings are production-like), with
   a cache key prefix of its own;
2. runs ``migrate``, ``collectstatic`` (DEBUG=0 uses the manifest storage) and
   ``import_article content/order-did-not-import.txt``, then its German
   translation (``content/de/``, with the help center's home) as the demo does;
3. starts gunicorn (2 gthread workers x 4 threads by default) with DEBUG=0, fresh SECRET_KEY
   and CREDENTIALS_KEY, and BENCHMARK_VIEWS=1 for ``/_bench/baseline``;
4. checks the article answers 200 with ``id="step-7"``, its stylesheet is
   served, and the baseline answers 200;
5. runs wrk against each URL, baseline, article, then the German article (a warm-up, then the
   measured run), ``--rounds`` times (3 by default), and prints the median
   round's requests/s, p50, p90 and p99 latency, gunicorn's CPU time per
   request, the article/baseline ratio and PASS/FAIL. Interleaved rounds keep
   a burst of load from elsewhere on this 2-core machine from landing on one
   side only;
6. stops gunicorn, drops the database and deletes its cache keys (unless
   ``--keep``).

Run from the repository root::

    uv run python bench/article_page.py
    uv run python bench/article_page.py --workers 3 --connections 16 --duration 20
    uv run python bench/article_page.py --rounds 1 --duration 5    # a quick look

Exit status: 0 on PASS, 1 on FAIL, 2 when the set-up or a sanity check failed.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from stack import (
    HOST,
    BenchError,
    add_stack_arguments,
    cache_keys_delete,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_start,
    http_get,
    log,
    manage,
    process_stop,
    process_tree_cpu_seconds,
    redis_client,
    server_environment,
    wait_until_serving,
)

ARTICLE_FILE = "content/order-did-not-import.txt"
ARTICLE_PATH = "/help/order-did-not-import/"
# The demo's German translation of the article (and of the help center's home, its parent there).
GERMAN_FILE = "content/de/order-did-not-import.txt"
GERMAN_HOME_FILE = "content/de/help-center.txt"
GERMAN_PATH = "/de/help/eine-bestellung-wurde-nicht-importiert/"
# The German article is the English one's translation: served as fast, within this much.
GERMAN_MIN_RATIO = 0.95
GERMAN_IMPORT = f"""
from pathlib import Path
from apps.help.models import TroubleshootingPage
from apps.help.translations import article_translation_import, help_center_translation_import
help_center_translation_import(data=Path("{GERMAN_HOME_FILE}").read_bytes(), language="de")
source = TroubleshootingPage.objects.get(slug="order-did-not-import", locale__language_code="en")
print(article_translation_import(source=source, data=Path("{GERMAN_FILE}").read_bytes(), language="de").page.url)
"""
BASELINE_PATH = "/_bench/baseline"
ARTICLE_MARKER = 'id="step-7"'

# wrk prints this line from done(): exact figures instead of its rounded table.
WRK_REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %.0f, "
    .. "\\"p90_us\\": %.0f, \\"p99_us\\": %.0f, \\"max_us\\": %.0f, \\"non_2xx_3xx\\": %d, "
    .. "\\"connect_errors\\": %d, \\"read_errors\\": %d, \\"write_errors\\": %d, \\"timeouts\\": %d}\\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass
class WrkResult:
    requests: int
    duration_us: int
    p50_us: float
    p90_us: float
    p99_us: float
    max_us: float
    non_2xx_3xx: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    server_cpu_s: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s * 1000 / self.requests if self.requests else 0.0

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1_000_000) if self.duration_us else 0.0

    @property
    def errors(self) -> int:
        # Sync gunicorn workers close every connection; wrk may count a few
        # reads on closed sockets, but bad statuses and timeouts are real.
        return self.non_2xx_3xx + self.connect_errors + self.timeouts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Measure the published article against a minimal Django view under gunicorn "
            "(DEBUG=0, PostgreSQL, Redis cache), with wrk. Talks to 127.0.0.1 only."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (-c)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per URL")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load per URL")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measure baseline then article this many times and report the median round "
        "(steadier on a busy machine)",
    )
    add_stack_arguments(parser, db_name="kitty_bench_article", redis_db=3, broker_db=4)
    parser.add_argument("--min-ratio", type=float, default=0.60, help="article/baseline req/s")
    parser.add_argument("--max-p99-ms", type=float, default=50.0, help="article p99 latency")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database, the cache keys and the gunicorn log afterwards",
    )
    args = parser.parse_args(argv)
    for name in ("workers", "threads", "connections", "duration", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads (wrk needs one per thread)")
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed; on Debian: apt-get install -y wrk")
    return args


# --- Redis ------------------------------------------------------------------


def cache_page_entries(redis_url: str, prefix: str) -> int:
    client = redis_client(redis_url)
    return sum(1 for _ in client.scan_iter(match=f"{prefix}:*help:page-entry:*", count=500))


# --- Sanity checks ----------------------------------------------------------


def sanity_checks(port: int, redis_url: str, cache_prefix: str) -> None:
    status, _, body = http_get(port, GERMAN_PATH)
    if status != 200 or ARTICLE_MARKER not in body or 'lang="de"' not in body:
        raise BenchError(f"{GERMAN_PATH} answered {status}, not the German article:\n{body[:2000]}")
    log(f"{GERMAN_PATH}: 200, {len(body)} characters, in German")
    status, headers, body = http_get(port, ARTICLE_PATH)
    if status != 200:
        raise BenchError(f"{ARTICLE_PATH} answered {status}, not 200:\n{body[:2000]}")
    if ARTICLE_MARKER not in body:
        raise BenchError(f"{ARTICLE_PATH} answered 200 but without {ARTICLE_MARKER}:\n{body[:2000]}")
    if "set-cookie" in headers:
        log(f"warning: the anonymous article sets a cookie: {headers['set-cookie'][:120]}")
    log(f"{ARTICLE_PATH}: 200, {len(body)} characters, contains {ARTICLE_MARKER}")

    # Second request: should be the cached copy (same bytes).
    status2, _, body2 = http_get(port, ARTICLE_PATH)
    if status2 != 200 or ARTICLE_MARKER not in body2:
        raise BenchError(f"the second request for {ARTICLE_PATH} answered {status2}")
    entries = cache_page_entries(redis_url, cache_prefix)
    log(f"cached help pages in Redis after two requests: {entries}")

    # DEBUG=0 uses the manifest storage: the page must link hashed names WhiteNoise serves.
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', body)
    if not stylesheet:
        raise BenchError("the article links no stylesheet")
    css_status, css_headers, _ = http_get(port, stylesheet.group(1))
    if css_status != 200:
        raise BenchError(f"the stylesheet {stylesheet.group(1)} answered {css_status}")
    log(f"{stylesheet.group(1)}: 200 ({css_headers.get('cache-control', 'no cache-control')})")

    status, _, body = http_get(port, BASELINE_PATH)
    if status != 200:
        raise BenchError(f"{BASELINE_PATH} answered {status}, not 200:\n{body[:2000]}")
    log(f"{BASELINE_PATH}: 200, {len(body)} characters")


# --- wrk --------------------------------------------------------------------


def wrk_run(url: str, *, seconds: int, threads: int, connections: int, script: Path) -> WrkResult:
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed (exit {result.returncode}): {result.stderr or result.stdout}")
    match = re.search(r"^BENCH_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"wrk printed no figures:\n{result.stdout}\n{result.stderr}")
    return WrkResult(**json.loads(match.group(1)))


def measure(url: str, args: argparse.Namespace, script: Path, server_pid: int, *, warm_up: bool) -> WrkResult:
    if warm_up and args.warmup > 0:
        log(f"warm-up {args.warmup} s: {url}")
        wrk_run(
            url,
            seconds=args.warmup,
            threads=args.threads,
            connections=args.connections,
            script=script,
        )
    log(f"measuring {args.duration} s (-t{args.threads} -c{args.connections}): {url}")
    cpu_before = process_tree_cpu_seconds(server_pid)
    result = wrk_run(
        url,
        seconds=args.duration,
        threads=args.threads,
        connections=args.connections,
        script=script,
    )
    result.server_cpu_s = process_tree_cpu_seconds(server_pid) - cpu_before
    if result.errors:
        raise BenchError(
            f"{url}: {result.non_2xx_3xx} bad statuses, {result.connect_errors} connect errors, "
            f"{result.timeouts} timeouts during the run"
        )
    return result


def _row(name: str, r: WrkResult) -> str:
    return (
        f"{name:10} {r.rps:11.1f} {r.p50_us / 1000:8.2f} {r.p90_us / 1000:8.2f} "
        f"{r.p99_us / 1000:8.2f} {r.max_us / 1000:8.2f} {r.cpu_ms_per_request:13.3f}"
    )


HEADER = (
    f"{'':10} {'requests/s':>11} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
    f"{'server CPU ms':>13}"
)


def report(rounds: list[tuple[WrkResult, WrkResult, WrkResult]], args: argparse.Namespace) -> bool:
    """Print the figures; with several rounds, the median of each (and of the ratios)."""
    ratios = [a.rps / b.rps if b.rps else 0.0 for b, a, _ in rounds]
    german_ratios = [g.rps / a.rps if a.rps else 0.0 for _, a, g in rounds]
    print()
    if len(rounds) > 1:
        for number, (baseline, article, german) in enumerate(rounds, 1):
            print(
                f"round {number}: article/baseline {ratios[number - 1]:.1%}, "
                f"German/English {german_ratios[number - 1]:.1%}"
            )
            print(HEADER)
            print(_row("baseline", baseline))
            print(_row("article", article))
            print(_row("German", german))
        print(f"median of {len(rounds)} rounds:")
    baseline = _median([b for b, _, _ in rounds])
    article = _median([a for _, a, _ in rounds])
    german = _median([g for _, _, g in rounds])
    ratio = statistics.median(ratios)
    german_ratio = statistics.median(german_ratios)
    p99_ms = article.p99_us / 1000
    print(HEADER)
    print(_row("baseline", baseline))
    print(_row("article", article))
    print(_row("German", german))
    print("(server CPU ms: gunicorn master + workers, CPU time per request)")
    print(f"article/baseline throughput: {ratio:.1%}")
    print(f"German/English article throughput: {german_ratio:.1%}")
    throughput_ok = ratio >= args.min_ratio
    german_ok = german_ratio >= GERMAN_MIN_RATIO
    print(
        f"{'PASS' if german_ok else 'FAIL'}  languages: the German article is {german_ratio:.1%} of the "
        f"English one's throughput (target >= {GERMAN_MIN_RATIO:.0%})"
    )
    latency_ok = p99_ms < args.max_p99_ms
    print(
        f"{'PASS' if throughput_ok else 'FAIL'}  throughput: article is {ratio:.1%} of baseline "
        f"(target >= {args.min_ratio:.0%})"
    )
    print(
        f"{'PASS' if latency_ok else 'FAIL'}  latency: article p99 {p99_ms:.2f} ms "
        f"(target < {args.max_p99_ms:g} ms)"
    )
    passed = throughput_ok and latency_ok and german_ok
    print("PASS" if passed else "FAIL")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "settings": {
                        k: getattr(args, k)
                        for k in ("workers", "threads", "connections", "duration", "warmup", "rounds")
                    },
                    "rounds": [
                        {"baseline": _as_dict(b), "article": _as_dict(a), "german": _as_dict(g)}
                        for b, a, g in rounds
                    ],
                    "baseline": _as_dict(baseline),
                    "article": _as_dict(article),
                    "german": _as_dict(german),
                    "ratio": ratio,
                    "german_ratio": german_ratio,
                    "passed": passed,
                },
                indent=2,
            )
        )
    return passed


def _median(results: list[WrkResult]) -> WrkResult:
    """Field by field median; requests and duration are picked so that rps is the median too."""
    by_rps = sorted(results, key=lambda r: r.rps)
    middle = by_rps[len(by_rps) // 2] if len(by_rps) % 2 else None
    fields = {name: statistics.median(getattr(r, name) for r in results) for name in _FIELDS}
    if middle is not None:
        fields["requests"], fields["duration_us"] = middle.requests, middle.duration_us
    else:  # even count: average the two middle rounds' rates over a common duration
        low, high = by_rps[len(by_rps) // 2 - 1], by_rps[len(by_rps) // 2]
        fields["duration_us"] = 1_000_000
        fields["requests"] = round((low.rps + high.rps) / 2)
    median = WrkResult(**fields)
    cpu_per_request = statistics.median(r.cpu_ms_per_request for r in results)
    median.server_cpu_s = cpu_per_request * median.requests / 1000
    return median


_FIELDS = [
    "requests",
    "duration_us",
    "p50_us",
    "p90_us",
    "p99_us",
    "max_us",
    "non_2xx_3xx",
    "connect_errors",
    "read_errors",
    "write_errors",
    "timeouts",
]


def _as_dict(result: WrkResult) -> dict:
    return asdict(result) | {"rps": result.rps, "cpu_ms_per_request": result.cpu_ms_per_request}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    port = args.port or free_port()
    cache_prefix = f"kt-bench-{secrets.token_hex(4)}"
    env = server_environment(args, cache_prefix, BENCHMARK_VIEWS="1")
    redis_url = env["REDIS_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-bench-"))
    logfile = workdir / "gunicorn.log"
    script = workdir / "report.lua"
    script.write_text(WRK_REPORT_LUA)
    process = None
    database_created = False
    try:
        log(f"database {args.db_name} (drop + create), cache {redis_url} prefix {cache_prefix}")
        database_recreate(args.db_name)
        database_created = True
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        manage(env, "import_article", ARTICLE_FILE, echo_last_line=True)
        manage(env, "shell", "-c", GERMAN_IMPORT, echo_last_line=True)

        process = gunicorn_start(env, port, args.workers, logfile, threads=args.gunicorn_threads)
        wait_until_serving(process, port, logfile, timeout=60)
        sanity_checks(port, redis_url, cache_prefix)

        base = f"http://{HOST}:{port}"
        rounds = []
        for number in range(args.rounds):
            # Interleaved, so a burst of load from elsewhere hits both sides alike.
            first = number == 0
            baseline = measure(base + BASELINE_PATH, args, script, process.pid, warm_up=first)
            article = measure(base + ARTICLE_PATH, args, script, process.pid, warm_up=first)
            german = measure(base + GERMAN_PATH, args, script, process.pid, warm_up=first)
            rounds.append((baseline, article, german))
        passed = report(rounds, args)
        return 0 if passed else 1
    except BenchError as exc:
        print(f"[bench] ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        if process is not None:
            process_stop(process)
            log("gunicorn stopped")
        if args.keep:
            log(f"kept database {args.db_name} and cache prefix {cache_prefix} in {redis_url}")
            log(f"gunicorn log: {logfile}")
        else:
            if database_created:
                database_drop(args.db_name)
            deleted = cache_keys_delete(redis_url, cache_prefix)
            log(f"dropped database {args.db_name}, deleted {deleted} cache keys")


if __name__ == "__main__":
    sys.exit(main())
