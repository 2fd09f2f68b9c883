"""Fixtures shared by every test package."""

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation

SEED_ARTICLE = Path(settings.BASE_DIR) / "content" / "order-did-not-import.txt"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# pytest-xdist's worker ("gw0", "gw1", …), or "" in a single process; files of one process end with its suffix.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PROCESS_SUFFIX = f"-{XDIST_WORKER}" if XDIST_WORKER else ""


def _own_redis_databases() -> None:
    """Under pytest-xdist, each worker process but the first gets a broker and a cache database of its own.

    Otherwise one worker's Celery workers would take the other's tasks (each
    reads its own test database), and emptying the cache before every test
    would empty the other's mid-test. gw1 uses Redis databases 10 and 11, gw2
    12 and 13, gw3 14 and 15.
    """
    n = int(XDIST_WORKER.removeprefix("gw") or 0)
    if n == 0 or not settings.CELERY_BROKER_URL.startswith("redis://"):
        return
    if n > 3:
        raise pytest.UsageError("run at most 4 xdist workers (-n 4): Redis has 16 databases")

    def on(url: str, db: int) -> str:
        return urlparse(url)._replace(path=f"/{db}").geturl()

    from django.test.utils import override_settings

    from kitty_troubleshoot.celery import app

    broker, cache = on(settings.CELERY_BROKER_URL, 8 + 2 * n), on(settings.REDIS_URL, 9 + 2 * n)
    caches = {"default": {**settings.CACHES["default"], "LOCATION": cache}}
    override_settings(CELERY_BROKER_URL=broker, REDIS_URL=cache, CACHES=caches).enable()
    # Celery reads its broker from the environment before its configuration.
    os.environ.update(CELERY_BROKER_URL=broker, REDIS_URL=cache)
    app.conf.broker_url = broker


_own_redis_databases()


def service_missing(reason: str):
    """Locally a missing service skips its tests; in CI it is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(f"{reason}; CI runs this test")


def postgresql_required(why: str = "this needs PostgreSQL (set DATABASE_URL)") -> None:
    """Locally on SQLite, skip a test that needs PostgreSQL itself (row or advisory locks); CI fails it."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        service_missing(why)


def redis_url_for_tests() -> str:
    url = settings.REDIS_URL or "redis://127.0.0.1:6379/15"
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1).close()
    except OSError:
        service_missing(f"Redis is not reachable at {parsed.hostname}:{parsed.port or 6379}")
    return url


@pytest.fixture
def redis_url() -> str:
    return redis_url_for_tests()


@pytest.fixture
def seed_article_bytes() -> bytes:
    return SEED_ARTICLE.read_bytes()


def wagtail_tree_ensure() -> None:
    """Wagtail's root page and default locale, which a transactional test's flush removes."""
    from wagtail.models import Locale, Page

    Locale.objects.get_or_create(language_code="en")
    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", live=True))


def article_make():
    """The seed article, imported and published like the demo does."""
    from apps.help.services import article_import

    wagtail_tree_ensure()
    return article_import(
        data=SEED_ARTICLE.read_bytes(),
        slug=SEED_ARTICLE.stem,
        checks_text=SEED_ARTICLE.with_suffix(".checks").read_text(),
    ).page


def demo_make():
    """The seed article, then the demo's users, articles and accounts as ./dev demo leaves them."""
    from io import StringIO

    from django.core.management import call_command

    page = article_make()
    call_command("demo_setup", stdout=StringIO())
    page.refresh_from_db()
    return page


# --- The test databases -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """Each process's test database. Under pytest-xdist on PostgreSQL, the first process to get here
    migrates a template database and every process copies it (CREATE DATABASE … TEMPLATE, a file
    copy), instead of each running every migration at once (half a minute each on two cores)."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    connection = connections["default"]
    if not XDIST_WORKER or connection.vendor != "postgresql" or request.config.getoption("reuse_db"):
        with django_db_blocker.unblock():
            made = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
            )
        yield
        with django_db_blocker.unblock():
            teardown_databases(made, verbosity=0)
        return

    import fcntl
    import tempfile

    own = connection.settings_dict["TEST"]["NAME"]  # pytest-django's, with the process's suffix
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "run")[:12]
    template = f"{own.removesuffix('_' + XDIST_WORKER)}_template_{run}"
    quote = connection.ops.quote_name

    def template_exists() -> bool:
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            return cursor.fetchone() is not None

    with django_db_blocker.unblock():
        with open(Path(tempfile.gettempdir()) / f"kitty-test-databases-{run}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not template_exists():
                connection.settings_dict["TEST"]["NAME"] = template
                connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            connection.close()  # a template is copied only while nobody is connected to it
            with connection._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(own)}")
                cursor.execute(f"CREATE DATABASE {quote(own)} TEMPLATE {quote(template)}")
        connection.settings_dict["NAME"] = connection.settings_dict["TEST"]["NAME"] = own
        settings.DATABASES["default"]["NAME"] = own
    yield
    with django_db_blocker.unblock():
        connection.close()
        try:
            with connection._nodb_cursor() as cursor:
                # FORCE: a real worker or a live server's thread may still hold a connection to it.
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(own)} WITH (FORCE)")
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(template)}")  # the first done: all copied
        except Exception as exc:  # as pytest-django's own teardown: said, not a failed test
            request.node.warn(pytest.PytestWarning(f"the test databases were not dropped: {exc!r}"))


# --- The demo (or the article), made once for a module -----------------------------------------
# Setting up the demo costs about a second (five with its translations), importing the article a
# third of one; most of the tests that need them only read them and change them inside their own
# transaction. A module whose every database test asks for the demo (or, none of them for the demo,
# every one for the article), none of them committing, gets it made once, in a transaction around
# the whole module: each test's own transaction is then a savepoint in it, rolled back after the
# test as before, so every test still starts from what was made. The module's transaction is
# rolled back after its last test. Anything else (a real worker, a live server, a test that wants
# an empty database beside them) keeps making it per test.
MADE_ONCE = "_made_once_for_the_module"  # set on a module: ("demo", translations) or ("article", False)
COMMITTING_FIXTURES = {"transactional_db", "live_server", "celery_worker", "django_db_serialized_rollback"}


def _commits(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(COMMITTING_FIXTURES & set(item.fixturenames)) or bool(
        marker is not None
        and any(marker.kwargs.get(name) for name in ("transaction", "reset_sequences", "serialized_rollback"))
    )


def _uses_database(item) -> bool:
    return "db" in item.fixturenames or item.get_closest_marker("django_db") is not None or _commits(item)


def _made_once(module_items) -> tuple[str, bool] | None:
    database = [item for item in module_items if _uses_database(item)]
    if len(database) < 2 or any(_commits(item) for item in module_items):
        return None
    if all("demo" in item.fixturenames for item in database):
        translations = {item.get_closest_marker("translations") is not None for item in database}
        return ("demo", translations.pop()) if len(translations) == 1 else None
    if all("article" in item.fixturenames and "demo" not in item.fixturenames for item in database):
        return ("article", False)
    return None


def pytest_collection_modifyitems(items):
    by_module: dict = {}
    for item in items:
        if getattr(item, "module", None) is not None:
            by_module.setdefault(item.module, []).append(item)
    for module, module_items in by_module.items():
        setattr(module, MADE_ONCE, _made_once(module_items))


@pytest.fixture(scope="module", autouse=True)
def _made_for_the_module(request):
    made = getattr(request.module, MADE_ONCE, None)
    if made is None:
        yield None
        return
    kind, translations = made
    from django.core.cache import cache
    from django.db import transaction
    from django.test.utils import override_settings

    from kitty_troubleshoot.celery import app

    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    module_transaction = transaction.atomic()
    eager, app.conf.task_always_eager = app.conf.task_always_eager, True
    try:
        with blocker.unblock():
            # As each test's own fixtures would have it (_fresh_cache, _demo_languages, _fast_password_hashing).
            cache.clear()
            platform_memory_forget()
            translation.deactivate()
            module_transaction.__enter__()
            with override_settings(DEMO_TRANSLATIONS=translations, PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
                page = demo_make() if kind == "demo" else article_make()
    except BaseException:
        _roll_back(module_transaction, blocker)
        raise
    finally:
        app.conf.task_always_eager = eager
    yield page
    _roll_back(module_transaction, blocker)


def _roll_back(module_transaction, blocker) -> None:
    from django.db import transaction

    with blocker.unblock():
        transaction.set_rollback(True)
        module_transaction.__exit__(None, None, None)


def _made_once_or_now(made, make):
    """The page the module made once (read again), or ``make()``'s."""
    if made is None:
        return make()
    made.refresh_from_db()
    return made


@pytest.fixture
def demo(db, _made_for_the_module):
    """The demo account and users, as ./dev demo leaves them; the seed article's page."""
    return _made_once_or_now(_made_for_the_module, demo_make)


@pytest.fixture
def article(db, _made_for_the_module):
    """The seed article, imported and published like the demo does (the module's, where made once)."""
    return _made_once_or_now(_made_for_the_module, article_make)


def platform_memory_forget() -> None:
    """Forget this process's throttle buckets and breakers (those in Redis live in the cache's database)."""
    from apps.platforms.breaker import reset_local_breakers
    from apps.platforms.throttle import reset_local_buckets

    reset_local_buckets()
    reset_local_breakers()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache and empty throttle buckets.

    Row ids are reused across tests, so a bucket blocked (or a store paused) by
    one test's plugin would otherwise hold off the next test's plugin with the same id.
    """
    from django.core.cache import cache

    cache.clear()  # on Redis this empties the cache's database, throttles and breakers included
    platform_memory_forget()
    yield


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not (os.path.exists(path) or shutil.which(path)):
        service_missing(f"Chromium is not installed at {path} (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls made by the test itself are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _demo_languages(request, settings):
    """The demo's German and French articles only for tests marked ``translations``: importing them
    costs every test that sets up the demo a few seconds."""
    settings.DEMO_TRANSLATIONS = request.node.get_closest_marker("translations") is not None


@pytest.fixture(autouse=True)
def _english_to_begin_with():
    """Every test starts in English, whatever language an earlier test's request left on this thread."""
    translation.deactivate()
    yield
    translation.deactivate()


# Real hashing costs ~300 ms a password; tests check behaviour, not cost.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


def _database_url_for_workers() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def celery_worker_spawn(queue: str, name: str, *, lane: str = "", **env_overrides: str):
    """Start a real Celery worker for the lane ``queue``, as production does, reading the test database.

    Its arguments are the lane's (``kitty_troubleshoot.celery.worker_arguments``):
    clicks and interactive (with housekeeping) on threads, bulk on 2 processes.
    ``lane``: start a worker like that lane's, but serving ``queue`` alone.
    ``env_overrides`` are further environment variables (e.g. shorter time limits).

    Returns (process, its log file); the caller waits for it (``ping``) and stops it.
    """
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_workers(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "1",
        # What the worker e-mails lands in files the tests read (worker_outbox).
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(WORKER_OUTBOX),
        **env_overrides,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log_dir = Path(settings.BASE_DIR) / "var"
    log_dir.mkdir(exist_ok=True)  # var/ is git-ignored: absent in a fresh clone run on PostgreSQL
    log = open(log_dir / f"test-worker-{queue}{PROCESS_SUFFIX}.log", "w")  # noqa: SIM115 (lives as long as the worker)
    from kitty_troubleshoot.celery import worker_arguments

    arguments = worker_arguments(lane or queue)
    if lane:
        arguments[arguments.index("-Q") + 1] = queue
    process = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "kitty_troubleshoot", "worker",
            *arguments, "--loglevel=INFO",
            "-n", name, "--without-gossip", "--without-mingle",
        ],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process, log


# The Celery node name of each queue's session worker, while they run.
workers_names: dict[str, str] = {}


def workers_answering(timeout: float = 60.0) -> None:
    """Wait until every session worker answers a ping (one may still be replacing a killed pool process)."""
    from kitty_troubleshoot.celery import app

    for name in workers_names.values():
        wait_for(lambda name=name: app.control.ping(destination=[name], timeout=0.5), timeout=timeout)


@pytest.fixture(scope="session")
def celery_workers(django_db_setup, django_db_blocker):
    """Real Celery workers on the configured broker, reading the test database: one per queue.

    As in production, each lane (``kitty_troubleshoot.celery.WORKER_LANES``:
    "clicks" for one step's check or fix, "interactive" for every step and
    housekeeping, "bulk" for syncs) is served by a worker process of its own;
    the dict maps the lane to its worker's Popen. Started once per session. Without a broker (the
    zero-setup default) tasks run eagerly in-process and this yields None.
    """
    import subprocess
    import time
    import uuid

    from kitty_troubleshoot.celery import WORKER_LANES, app

    if app.conf.task_always_eager:
        yield None
        return
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        service_missing("a real Celery worker needs PostgreSQL (set DATABASE_URL) to share the test database")
    app.control.purge()
    run_id = uuid.uuid4().hex[:8]
    workers, logs, names = {}, {}, {}
    for queue in WORKER_LANES:
        names[queue] = f"tests-{queue}-{run_id}@localhost"
        workers[queue], logs[queue] = celery_worker_spawn(queue, names[queue])
    deadline = time.monotonic() + 60
    for queue, name in names.items():
        while not app.control.ping(destination=[name], timeout=0.5):
            if workers[queue].poll() is not None or time.monotonic() > deadline:
                for worker in workers.values():
                    worker.kill()
                pytest.fail(f"the {queue} Celery worker did not start; see {logs[queue].name}")
    workers_names.update(names)
    yield workers
    workers_names.clear()
    for worker in workers.values():
        worker.terminate()
    for worker in workers.values():
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    for log in logs.values():
        log.close()


@pytest.fixture(scope="session")
def celery_worker_process(celery_workers):
    """The worker of the "interactive" lane, the one that runs "Check every step" (None without a broker)."""
    return celery_workers["interactive"] if celery_workers else None


@pytest.fixture(scope="session")
def bulk_worker_process(celery_workers):
    """The worker of the "bulk" queue: syncs, backfills, e-mail, beat's sweeps (None without a broker)."""
    return celery_workers["bulk"] if celery_workers else None


@pytest.fixture
def celery_worker(celery_worker_process, transactional_db):
    """Tasks queued in this test run on a real worker (or eagerly without a broker).

    The test's data is committed (transactional_db) so the worker can read it.
    The test starts once the workers answer: a busy machine may still be
    starting one an earlier test stopped or killed.
    """
    if celery_worker_process is not None:
        workers_answering()
    return celery_worker_process


WORKER_OUTBOX = Path(settings.BASE_DIR) / "var" / f"test-worker-mail{PROCESS_SUFFIX}"


@pytest.fixture
def worker_outbox(celery_worker):
    """The e-mails the real worker sends in this test, as parsed messages (read with ``outbox()``)."""
    import email

    WORKER_OUTBOX.mkdir(parents=True, exist_ok=True)
    for old in WORKER_OUTBOX.iterdir():
        old.unlink()

    def outbox() -> list:
        # The file backend appends each message to a per-connection file, separated by a line of dashes.
        messages = []
        for path in sorted(WORKER_OUTBOX.iterdir()):
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if raw.strip():
                    messages.append(email.message_from_bytes(raw))
        return messages

    return outbox


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy; return its value or fail after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(
                f"gave up after {timeout:.0f} s waiting for {getattr(predicate, '__name__', predicate)}"
            )
        time.sleep(interval)


@pytest.fixture(autouse=True)
def _celery_mode(request, settings):
    """Tasks run eagerly unless the test asked for a real worker (``celery_worker``).

    A test inside a rolled-back transaction cannot share its rows with a
    worker process, so only tests that commit (celery_worker does) use one.
    Without one, a start never waits for its task to say it ended: an eager
    task has ended already, and a task a test holds back never will.
    """
    from kitty_troubleshoot.celery import app

    if "celery_worker" in request.fixturenames:
        yield
        return
    settings.CHECK_START_WAIT_MS = 0
    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was
