"""What one "Check every step" and one click cost, in one process: CPU and queries of each request and task.

``load.py`` measures the whole stack under load, where the host's
neighbours decide much of the figures; this measures the same requests one
at a time, in process, through Django's test client with ``DEBUG=0`` and
manifest static files, on the production shape otherwise (PostgreSQL, Redis
as cache and broker). Each merchant (``bench-merchant-NN``, made as
``load.py`` makes them: a demo-marketplace plugin with orders #1001 and
#1002) does, per round:

1. *press*: POST "Check every step" (``all=1``, order #1001) with htmx's
   headers, as the article's button does; the task goes to the broker;
2. *look, queued*: the summary's look while every run still waits;
3. *task*: the check task those runs carry, run here (``run_checks.apply``:
   the worker's work without Celery's message handling);
4. *look, done*: the look that finds the diagnosis done;
5. *look, running*: one step set back to running (a slow platform), and the
   look a merchant's page makes while nothing has ended since its last one:
   what a slow diagnosis' looks cost for seconds;
6. *click*, *click task*, *click, done*: Step 1's "Check this now" on the
   same order (POST /checks/start/ with its ``block_id``), the task of the
   clicks lane it queues, and the widget's look that finds it passed;
7. *press, ended*: "Check every step" again, answered as on the real stack
   when its task ends within the start's wait (``CHECK_START_WAIT_MS``,
   apps/checks/services/ending.py): with every step's result, no look after
   it. Its task runs here while the press waits; the task's CPU, queries and
   calls are left out of the press's figures.

It prints, for each, the mean milliseconds of this process's CPU
(``time.process_time``), of the PostgreSQL session's (its backend's
``/proc`` times; 10 ms ticks, so only the mean over many rounds means
anything), the queries a request made and the Python function calls it
made (counted in one more round under cProfile: a measure of the work that a
busy host does not change, to compare code with); ``--profile KIND`` prints
cProfile's top functions for that kind instead of timing it.

    BENCH_REDIS_PORT=6395 uv run python bench/diagnosis_cpu.py [--merchants 10] [--rounds 5] [--keep]

Redis db 12 (broker) and 13 (cache) of BENCH_REDIS_PORT's server; the
database ``kitty_bench_cpu`` is dropped afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from checks import broker_db_claim, broker_keys_delete, summary_state, widget_state
from stack import (
    HOST,
    REDIS_PORT,
    BenchError,
    cache_keys_delete,
    database_drop,
    database_name,
    database_recreate,
    database_url,
    django_setup,
    log,
    manage,
    random_secret_key,
)

DB_NAME = "kitty_bench_cpu"
BROKER_DB, CACHE_DB = 12, 13
CACHE_PREFIX = "ktcpu"
ARTICLE_PATH = "/help/order-did-not-import/"
KINDS = (
    "press",
    "look, queued",
    "task",
    "look, done",
    "look, running",
    "click",
    "click task",
    "click, done",
    "press, ended",
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def environment(db_name: str, static_root: str, *, reuse: bool) -> dict[str, str]:
    """DEBUG=0 on the bench's own services; the keys kept beside the static files, for ``--reuse``."""
    from cryptography.fernet import Fernet

    keys_file = Path(static_root, "bench-keys.json")
    if reuse and keys_file.exists():
        keys = json.loads(keys_file.read_text())
    else:
        keys = {"SECRET_KEY": random_secret_key(), "CREDENTIALS_KEY": Fernet.generate_key().decode()}
        keys_file.write_text(json.dumps(keys))
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        DJANGO_SETTINGS_MODULE="kitty_troubleshoot.settings",
        DEBUG="0",
        **keys,
        ALLOWED_HOSTS=f"{HOST},testserver",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=database_url(db_name),
        REDIS_URL=f"redis://{HOST}:{REDIS_PORT}/{CACHE_DB}",
        CELERY_BROKER_URL=f"redis://{HOST}:{REDIS_PORT}/{BROKER_DB}",
        CACHE_KEY_PREFIX=CACHE_PREFIX,
        CHECK_STARTS_PER_MINUTE="100000",
        # No worker here: the press answers at once and its task runs in this process, measured apart.
        CHECK_START_WAIT_MS="0",
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    return env


def backend_cpu_ms(pid: int) -> float:
    """The CPU (user + system) the PostgreSQL backend ``pid`` has used, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / CLK_TCK


class Meter:
    """CPU of this process and of its PostgreSQL session, and the queries, per kind of request."""

    def __init__(self, profile: str | None, show: str | None = None, dump: str | None = None):
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.profile = profile
        self.show = show
        self.dump = dump
        self.profiler = cProfile.Profile()
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.pg: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.calls: dict[str, list[int]] = defaultdict(list)
        # What a request measured should leave out (a task run while it waited): cpu ms, pg ms, queries.
        self.aside = [0.0, 0.0, 0]
        self._counting = None

    def set_aside(self, work):
        """Run ``work`` inside a measured request, its CPU, queries and calls not counted as the request's."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if self._counting is not None:
            self._counting.disable()
        try:
            with CaptureQueriesContext(connection) as queries:
                pg_before, before = backend_cpu_ms(self.backend), time.process_time()
                result = work()
                after, pg_after = time.process_time(), backend_cpu_ms(self.backend)
        finally:
            if self._counting is not None:
                self._counting.enable()
        self.aside[0] += (after - before) * 1000
        self.aside[1] += pg_after - pg_before
        self.aside[2] += len(queries)
        return result

    def __call__(self, kind: str, work):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.aside = [0.0, 0.0, 0]
        if self.profile == "calls":  # Python function calls: the same on a busy host as on a quiet one
            profiler = self._counting = cProfile.Profile()
            profiler.enable()
            try:
                return work()
            finally:
                profiler.disable()
                self._counting = None
                self.calls[kind].append(pstats.Stats(profiler).total_calls)
        if self.profile == kind:
            self._counting = self.profiler
            self.profiler.enable()
            try:
                return work()
            finally:
                self.profiler.disable()
                self._counting = None
        with CaptureQueriesContext(connection) as queries:
            pg_before, before = backend_cpu_ms(self.backend), time.process_time()
            result = work()
            after, pg_after = time.process_time(), backend_cpu_ms(self.backend)
        self.cpu[kind].append((after - before) * 1000 - self.aside[0])
        self.pg[kind].append(pg_after - pg_before - self.aside[1])
        self.queries[kind].append(len(queries) - self.aside[2])
        if self.show == kind:
            self.show = None
            for query in queries.captured_queries:
                print(f"  {query['sql'][:300]}")
        return result

    def report(self, calls: Meter | None = None) -> None:
        if self.profile:
            stats = pstats.Stats(self.profiler)
            if self.dump:
                stats.dump_stats(self.dump)
            stats.sort_stats("cumulative").print_stats(r"/(apps|kitty_troubleshoot|templatetags)/", 50)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)
            return
        print(
            f"{'':16}{'CPU ms (median, mean)':>24}{'PostgreSQL ms (mean)':>22}{'queries':>10}{'n':>6}"
            f"{'Python calls':>14}"
        )
        for kind in KINDS:
            cpu = self.cpu[kind]
            if not cpu:
                continue
            print(
                f"{kind:16}{statistics.median(cpu):>14.2f}{statistics.mean(cpu):>10.2f}"
                f"{statistics.mean(self.pg[kind]):>22.2f}"
                f"{statistics.mean(self.queries[kind]):>10.1f}{len(cpu):>6}"
                f"{statistics.mean(calls.calls[kind]) if calls and calls.calls[kind] else 0:>14,.0f}"
            )


def merchants_make(count: int) -> list[str]:
    from load import child_setup

    spec = {"merchants": count, "slow_merchants": 0, "slow_url": f"http://{HOST}:9/", "quarter_url": ""}
    return child_setup(spec)["usernames"]


def browser_for(username: str):
    """A signed-in test client that has read the article once (its CSRF cookie), and the press's form."""
    import re

    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT="text/html")
    client.force_login(get_user_model().objects.get(username=username))
    body = client.get(ARTICLE_PATH).content.decode()
    page = re.search(r'<input type="hidden" name="page" value="(\d+)"', body).group(1)
    subject = re.search(r'<select[^>]*name="subject"[^>]*>.*?<option value="(\d+)"', body, re.S).group(1)
    press = re.search(r'<button[^>]*id="check-every-step"[^>]*hx-post="([^"]+)"', body, re.S).group(1)
    step_1 = re.search(
        r'id="check-([^"]+)" data-check-status="[^"]*" data-check-key="import_orders_enabled"', body
    )
    form = {"page": page, "subject": subject, "order_number": "1001", "placed_date": "", "all": "1"}
    return client, press, form, step_1.group(1)


def htmx_headers(client) -> dict[str, str]:
    # As htmx sends them: the page the answer goes into (its language decides the answer's).
    return {
        "HTTP_HX_REQUEST": "true",
        "HTTP_HX_CURRENT_URL": f"http://testserver{ARTICLE_PATH}",
        "HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value,
    }


def one_round(meter: Meter, client, press: str, form: dict, step_1: str) -> None:
    from apps.checks.models import CheckRun, Diagnosis
    from apps.checks.tasks import run_checks

    headers = htmx_headers(client)

    def look(url):
        def get():
            response = client.get(url, **headers)
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")
            return summary_state(response.content.decode())

        return get

    def post():
        response = client.post(press, form, **headers)
        if response.status_code != 200:
            raise BenchError(f"POST {press} answered {response.status_code}")
        return summary_state(response.content.decode())

    state = meter("press", post)
    if state.status != "running":
        raise BenchError(f"the press answered {state.status!r}")
    diagnosis_uuid = state.url.split("/diagnoses/")[1].split("/")[0]
    runs = list(
        CheckRun.objects.filter(diagnosis__uuid=diagnosis_uuid, status=CheckRun.State.QUEUED).order_by("pk")
    )
    state = meter("look, queued", look(state.url))
    task_id = runs[0].task_id
    meter("task", lambda: run_checks.apply(args=([run.pk for run in runs],), task_id=task_id))
    state = meter("look, done", look(state.url))
    if state.status != "done":
        raise BenchError(f"the look after the task answered {state.status!r}")
    # A slow platform: one step running again, and a look by a page that has every other step's result.
    diagnosis = Diagnosis.objects.get(uuid=diagnosis_uuid)
    slow = CheckRun.objects.filter(diagnosis=diagnosis, step_number=2).order_by("-pk").first()
    before = (slow.status, slow.finished_at)
    CheckRun.objects.filter(pk=slow.pk).update(status=CheckRun.State.RUNNING, finished_at=None)
    final = sorted({"0"} | {str(r.step_number) for r in runs if r.step_number is not None} - {"2"}, key=int)
    url = f"/checks/diagnoses/{diagnosis_uuid}/summary/?n=9&shown={'.'.join(final)}"
    for _ in range(3):
        state = meter("look, running", look(url))
        if state.status != "running":
            raise BenchError(f"the look at a running step answered {state.status!r}")
    CheckRun.objects.filter(pk=slow.pk).update(status=before[0], finished_at=before[1])
    one_click(meter, client, form, step_1, shown=diagnosis_uuid)
    press_ended(meter, client, press, form)


def press_ended(meter: Meter, client, press: str, form: dict) -> None:
    """ "Check every step" answered with its results: its task ends (here, set aside) while the press waits."""
    from apps.checks.models import CheckRun
    from apps.checks.services import ending
    from apps.checks.tasks import run_checks

    def task_ends(task_id: str, *, queued_ahead: int | None) -> bool:
        runs = list(CheckRun.objects.filter(task_id=task_id).order_by("pk").values_list("pk", flat=True))
        meter.set_aside(lambda: run_checks.apply(args=(runs,), task_id=task_id))
        return True

    def post():
        response = client.post(press, form, **htmx_headers(client))
        if response.status_code != 200:
            raise BenchError(f"POST {press} answered {response.status_code}")
        return summary_state(response.content.decode())

    waiting = ending.task_end_wait
    ending.task_end_wait = task_ends
    try:
        state = meter("press, ended", post)
    finally:
        ending.task_end_wait = waiting
    if state.status != "done":
        raise BenchError(f"the press whose task ended answered {state.status!r}")


def one_click(meter: Meter, client, form: dict, step_1: str, *, shown: str) -> None:
    """Step 1's "Check this now" on the same order: the click, its task, the look that finds it done.

    ``shown``: the diagnosis the page shows, which htmx sends with the click (its step alone comes back).
    """
    from apps.checks.models import CheckRun
    from apps.checks.tasks import run_checks

    headers = htmx_headers(client)
    data = {key: value for key, value in form.items() if key != "all"} | {"block_id": step_1, "shown": shown}

    def post():
        response = client.post("/checks/start/", data, **headers)
        if response.status_code != 200:
            raise BenchError(f"POST /checks/start/ answered {response.status_code}")
        return widget_state(response.content.decode(), step_1)

    state = meter("click", post)
    if state.status not in ("queued", "running"):
        raise BenchError(f"the click answered {state.status!r}")
    run_uuid = state.url.split("/runs/")[1].split("/")[0]
    run = CheckRun.objects.get(uuid=run_uuid)
    runs = list(CheckRun.objects.filter(task_id=run.task_id).order_by("pk"))
    meter("click task", lambda: run_checks.apply(args=([r.pk for r in runs],), task_id=run.task_id))

    def look():
        response = client.get(state.url, **headers)
        if response.status_code != 200:
            raise BenchError(f"GET {state.url} answered {response.status_code}")
        return widget_state(response.content.decode(), step_1)

    if meter("click, done", look).status != "passed":
        raise BenchError("Step 1 should pass for the bench's merchants")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="presses per merchant (after one warm-up)")
    parser.add_argument("--profile", choices=KINDS, help="print cProfile's top functions for this kind")
    parser.add_argument("--dump", metavar="FILE", help="with --profile: also write cProfile's stats to FILE")
    parser.add_argument("--queries", choices=KINDS, help="print the SQL of one request of this kind")
    parser.add_argument("--db-name", type=database_name, default=DB_NAME)
    parser.add_argument("--keep", action="store_true", help="leave the database in place")
    parser.add_argument("--reuse", action="store_true", help="use the kept database as it is")
    args = parser.parse_args()
    static_root = os.environ.get("BENCH_STATIC_ROOT") or tempfile.mkdtemp(prefix="kitty-bench-static-")
    env = environment(args.db_name, static_root, reuse=args.reuse)
    broker_db_claim(env["CELERY_BROKER_URL"])
    try:
        if not args.reuse:
            database_recreate(args.db_name)
            manage(env, "migrate", "-v0", timeout=600)
            manage(env, "demo_setup")
        if not Path(static_root, "staticfiles.json").exists():
            manage(env, "collectstatic", "--noinput", "-v0", timeout=600)
        os.environ.update(env)
        django_setup()
        from django.contrib.auth import get_user_model

        if args.reuse:
            usernames = sorted(
                get_user_model()
                .objects.filter(username__startswith="bench-merchant-")
                .values_list("username", flat=True)
            )[: args.merchants]
        else:
            usernames = merchants_make(args.merchants)
        browsers = [browser_for(username) for username in usernames]
        log(f"{len(browsers)} merchants signed in; {args.rounds} rounds each after a warm-up")
        for browser in browsers:  # warm-up: templates, page types, connections
            one_round(Meter(None), *browser)
        meter = Meter(args.profile, args.queries, args.dump)
        for _ in range(args.rounds):
            for browser in browsers:
                one_round(meter, *browser)
        calls = None
        if not args.profile:  # then once more, counting function calls (cProfile slows it down)
            calls = Meter("calls")
            for browser in browsers:
                one_round(calls, *browser)
        meter.report(calls)
        return 0
    except BenchError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 2
    finally:
        broker_keys_delete(env["CELERY_BROKER_URL"])
        cache_keys_delete(env["REDIS_URL"], CACHE_PREFIX)
        if not args.keep:
            from django.apps import apps

            if apps.ready:
                from django.db import connections

                connections.close_all()
            database_drop(args.db_name)


if __name__ == "__main__":
    sys.exit(main())
