"""The local stack the benchmarks build and tear down: PostgreSQL, Redis, Django, gunicorn.

A plain module, imported by the scripts next to it (``import stack``): run as
``uv run python bench/<name>.py``, a script has its own folder on
``sys.path``. Everything here talks to 127.0.0.1 only, and every process it
starts runs in a session of its own, so stopping it stops its children too.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import socket
import string
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from cryptography.fernet import Fernet
from psycopg import sql

if TYPE_CHECKING:
    import redis

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "root"
# Another Redis (e.g. one of its own for a bench run beside other work): BENCH_REDIS_PORT.
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT") or 6379)


class BenchError(Exception):
    """The set-up or a sanity check failed: there is nothing meaningful to measure."""


def log(message: str) -> None:
    """Print a progress line, prefixed ``[bench]``, at once."""
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def random_secret_key(length: int = 64) -> str:
    """A fresh Django SECRET_KEY."""
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


# --- Options and environment ------------------------------------------------


def database_name(value: str) -> str:
    """An argparse ``type``: a PostgreSQL database name the bench may create and drop."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise argparse.ArgumentTypeError("must be a lower-case identifier")
    return value


def add_stack_arguments(
    parser: argparse.ArgumentParser, *, db_name: str, redis_db: int, broker_db: int
) -> None:
    """Add the server's options: ``--workers``, ``--gunicorn-threads``, ``--port`` and its own services' ``--db-name``,
    ``--redis-db`` (the cache) and ``--broker-db`` (Celery's), with these defaults."""
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=4,
        help="threads per gunicorn worker (gthread; 1: sync workers, as before)",
    )
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (0: a free one)")
    parser.add_argument("--db-name", type=database_name, default=db_name, help="PostgreSQL database")
    parser.add_argument("--redis-db", type=int, default=redis_db, help="Redis db for the cache (REDIS_URL)")
    parser.add_argument(
        "--broker-db", type=int, default=broker_db, help="Redis db for the Celery broker (CELERY_BROKER_URL)"
    )


def server_environment(args: argparse.Namespace, cache_prefix: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like server (DEBUG=0, fresh keys) on the bench's own services.

    ``args`` holds the options of :func:`add_stack_arguments`: the PostgreSQL
    database, the cache's Redis db (REDIS_URL) and Celery's. ``extra`` adds or
    overrides variables (e.g. ``BENCHMARK_VIEWS="1"``). Proxy variables of the
    calling shell are left out.
    """
    env = dict(os.environ)
    # Whatever the calling shell points at, the bench uses only its own services.
    for name in list(env):
        if name.lower().endswith("_proxy"):
            del env[name]
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kitty_troubleshoot.settings",
            "DEBUG": "0",
            "SECRET_KEY": random_secret_key(),
            "CREDENTIALS_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": database_url(args.db_name),
            "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/{args.redis_db}",
            "CELERY_BROKER_URL": f"redis://{HOST}:{REDIS_PORT}/{args.broker_db}",
            "CACHE_KEY_PREFIX": cache_prefix,
            "SITE_URL": f"http://{HOST}",
            "EMAIL_HOST": HOST,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    return env


# --- PostgreSQL and Redis ---------------------------------------------------


def pg_connect(dbname: str = "postgres") -> psycopg.Connection:
    """An autocommit connection to ``dbname`` (by default the server's admin database)."""
    return psycopg.connect(
        host=HOST, port=PG_PORT, user=PG_USER, dbname=dbname, autocommit=True, connect_timeout=5
    )


def database_url(name: str) -> str:
    """DATABASE_URL for the database ``name`` on the local server."""
    return f"postgres://{PG_USER}@{HOST}:{PG_PORT}/{name}"


def database_drop(name: str) -> None:
    """Drop the database ``name`` if it exists, whoever is still connected to it."""
    with pg_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_recreate(name: str) -> None:
    """Drop the database ``name`` if it exists, and create it empty."""
    database_drop(name)
    with pg_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def redis_client(url: str) -> redis.Redis:
    """A client for the Redis db at ``url``."""
    # Imported here: import_orders.py measures its importer's peak memory, which needs no Redis.
    import redis

    return redis.Redis.from_url(url, socket_timeout=5)


def cache_keys_delete(url: str, prefix: str, also: Iterable[bytes] = ()) -> int:
    """Delete the cache keys under ``prefix`` (and the keys ``also``); return how many there were."""
    client = redis_client(url)
    keys = [*client.scan_iter(match=f"{prefix}:*", count=500), *also]
    if keys:
        client.delete(*keys)
    return len(keys)


# --- Django, gunicorn -------------------------------------------------------


def django_setup() -> None:
    """Set Django up in this process (DJANGO_SETTINGS_MODULE and the rest come from the environment)."""
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def manage(env: dict[str, str], *arguments: str, echo_last_line: bool = False, timeout: float = 300) -> str:
    """Run ``manage.py`` with ``arguments``; BenchError when it fails or outlasts ``timeout`` seconds.

    Returns the last line the command printed; with ``echo_last_line``, it is logged too.
    """
    log("manage.py " + " ".join(arguments))
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"manage.py {' '.join(arguments)} did not finish within {timeout:.0f} s") from None
    if result.returncode != 0:
        raise BenchError(
            f"manage.py {' '.join(arguments)} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-6000:]}"
        )
    last = (result.stdout.strip().splitlines() or [""])[-1]
    if echo_last_line and last:
        log(f"  {last}")
    return last


def spawn(command: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    """Start ``command`` in the repository, in a session of its own, its output going to ``logfile``."""
    with logfile.open("w") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def gunicorn_start(
    env: dict[str, str], port: int, workers: int, logfile: Path, threads: int = 4, nice: int = 0
) -> subprocess.Popen:
    """Start gunicorn on 127.0.0.1:``port``: ``workers`` processes of ``threads`` threads each.

    As in production (Dockerfile, docker-compose.yml), gthread workers, so a
    cached page never waits behind a slower request; ``threads=1`` starts
    sync workers instead, the way it was served before. ``nice`` lowers its
    CPU weight, as a container's ``cpu_shares`` does (nice 3: about half).
    """
    worker_class = "gthread" if threads > 1 else "sync"
    log(
        f"gunicorn on {HOST}:{port} with {workers} {worker_class} workers x {threads} threads (log: {logfile})"
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "kitty_troubleshoot.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
        "--no-control-socket",
    ]
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return spawn(command, env, logfile)


QUEUES = ("clicks", "interactive", "bulk")  # kitty_troubleshoot.celery.WORKER_LANES


def celery_workers_start(
    env: dict[str, str],
    logdir: Path,
    *,
    name: str,
    concurrency: dict[str, int] | int,
    queues: tuple[str, ...] = QUEUES,
    nice: dict[str, int] | None = None,
) -> dict[str, subprocess.Popen]:
    """Start one Celery worker per lane, as in production: ``{"clicks": Popen, "interactive": Popen, "bulk": Popen}``.

    Each lane's queues and pool are ``kitty_troubleshoot.celery.worker_arguments``':
    clicks and interactive (with housekeeping) on threads, bulk on processes. ``concurrency``
    (one number for all or one per lane) is the threads or processes of each; each worker logs
    to ``logdir/worker-<lane>.log`` and is named ``<name>-<lane>-<random>@<host>``.
    ``queues`` picks some of the lanes: another interactive worker, as on a machine of its own.
    ``nice``: a lane's nice value, lowering its CPU weight as a container's ``cpu_shares`` does.
    """
    if str(REPO) not in sys.path:  # a bench that has not set Django up in its own process
        sys.path.insert(0, str(REPO))
    from kitty_troubleshoot.celery import worker_arguments

    workers = {}
    for queue in queues:
        size = concurrency if isinstance(concurrency, int) else concurrency[queue]
        arguments = worker_arguments(queue, concurrency=size)
        logfile = logdir / f"worker-{queue}.log"
        log(f"Celery worker {' '.join(arguments)} (log: {logfile})")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kitty_troubleshoot",
            "worker",
            *arguments,
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}-{queue}-{secrets.token_hex(3)}@%h",
        ]
        if (nice or {}).get(queue):
            command = ["nice", "-n", str(nice[queue]), *command]
        workers[queue] = spawn(command, env, logfile)
    return workers


def process_stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (graceful for gunicorn and Celery), then SIGKILL to the group this bench started."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _process_stat(pid: int | str) -> tuple[int, str, float] | None:
    """A process's parent, name and CPU time (user + system) so far; None once it is gone."""
    try:
        head, tail = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except (OSError, ValueError):
        return None
    fields = tail.split()
    return (
        int(fields[1]),
        head.split("(", 1)[1],
        (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
    )


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its direct children so far."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    # A worker that was just replaced is gone: it counts for nothing.
    return sum(stat[2] for p in pids if (stat := _process_stat(p)) is not None)


# Processes the bench did not start, by name: the services it runs on.
_SERVICES = {"postgres": "PostgreSQL", "redis-server": "Redis"}


def machine_cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU time so far of every process on the machine, summed by what it is.

    ``roots`` names the processes the bench started (a process's children
    count with it); PostgreSQL and Redis are told by their names; the rest
    is "other". Compare two of these to see where a stretch of load spent
    the machine's CPU: processes still running at both count. Empty where
    there is no ``/proc`` to read.
    """
    if not Path("/proc/self/stat").exists():
        return {}
    stats = {
        int(entry.name): stat
        for entry in os.scandir("/proc")
        if entry.name.isdigit()
        if (stat := _process_stat(entry.name)) is not None
    }
    named = {pid: name for name, pid in roots.items()}
    totals: dict[str, float] = {}
    for pid, (_, comm, seconds) in stats.items():
        role, ancestor = None, pid
        while role is None and ancestor in stats:
            role = named.get(ancestor)
            ancestor = stats[ancestor][0]
        role = role or _SERVICES.get(comm, "other")
        totals[role] = totals.get(role, 0.0) + seconds
    return totals


def http_get(port: int, path: str, timeout: float = 10.0) -> tuple[int, dict[str, str], str]:
    """GET ``path`` from 127.0.0.1:``port``, no proxy: the status, the headers (lower-case) and the body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "text/html"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body
    finally:
        conn.close()


def wait_until_serving(process: subprocess.Popen, port: int, logfile: Path, timeout: float) -> None:
    """Wait until gunicorn answers /healthz with 200; BenchError if it exits, errs or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{logfile.read_text()[-6000:]}")
        try:
            status, _, body = http_get(port, "/healthz", timeout=2)
        except OSError:
            time.sleep(0.2)
            continue
        if status == 200:
            return
        raise BenchError(f"/healthz answered {status}:\n{body[:2000]}\n{logfile.read_text()[-4000:]}")
    raise BenchError(f"gunicorn did not answer within {timeout:.0f} s:\n{logfile.read_text()[-4000:]}")


def run_child(
    script: Path, kind: str, spec: dict, env: dict[str, str], timeout: float, *, context: str = ""
) -> dict:
    """Run a bench script again as a Django process (``--child kind``) and return the JSON it prints last.

    ``context`` (a worker's state and log, say) is added to the error when the child fails.
    """
    import json
    import sys

    command = [sys.executable, str(script.resolve()), "--child", kind, "--spec", json.dumps(spec)]
    try:
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the {kind} child did not finish within {timeout:.0f} s") from None
    if result.returncode != 0 or not result.stdout.strip():
        raise BenchError(
            f"the {kind} child failed (exit {result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-4000:]}{context}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])
