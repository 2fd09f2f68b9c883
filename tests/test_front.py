"""The production front (nginx, deploy/nginx/kitty.conf.template) in front of the app.

A real nginx, configured as docker-compose.yml configures it, proxies to the
test's live server. Anonymous readers of a published help page are answered
from nginx's cache; anyone with a session, any query string and anything the
app did not mark is passed through and never stored.
"""

import os
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from apps.help.services import article_import
from deploy import nginx_local
from kitty_troubleshoot.celery import WORKER_LANES
from tests.conftest import SEED_ARTICLE, postgresql_required, service_missing, wagtail_tree_ensure

ARTICLE = "/help/order-did-not-import/"


class Browserless:
    """GETs through the front, each with no cookie but those it is given (nothing is remembered)."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=10, trust_env=False, **kwargs)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DiagnosesLane:
    """Stands in for the web processes that serve "Check every step": answers 200 and notes each path."""

    def __init__(self):
        self.paths: list[str] = []
        lane = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                lane.paths.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "13")
                self.end_headers()
                self.wfile.write(b"diagnoses web")

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _front_before(live_server, workdir, diagnoses_port=None):
    if nginx_local.nginx_binary() is None:
        service_missing("nginx is not installed (apt-get install -y nginx-light)")
    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    port = _free_port()
    process = nginx_local.start(
        port=port,
        upstream_port=int(live_server.url.rsplit(":", 1)[1]),
        diagnoses_port=diagnoses_port,
        workdir=workdir,
    )
    return process, Browserless(f"http://127.0.0.1:{port}")


@pytest.fixture
def front(live_server, tmp_path, settings):
    """nginx on a port of its own in front of the live server; yields an HTTP client talking to it."""
    settings.HELP_PAGE_FRONT_CACHE_SECONDS = 2
    process, client = _front_before(live_server, tmp_path / "nginx")
    try:
        yield client
    finally:
        nginx_local.stop(process)


@pytest.fixture
def lanes(live_server, tmp_path):
    """The front with "Check every step" sent to a lane of its own: yields (client, that lane)."""
    lane = DiagnosesLane()
    process, client = _front_before(live_server, tmp_path / "nginx", diagnoses_port=lane.port)
    try:
        yield client, lane
    finally:
        nginx_local.stop(process)
        lane.stop()


def _signed_in(username: str, password: str) -> dict[str, str]:
    """Request headers of a signed-in browser (per request: the client itself stays anonymous)."""
    client = Client()
    assert client.login(username=username, password=password)
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}


def test_anonymous_readers_are_answered_from_the_front_and_its_marker_stays_inside(front):
    first = front.get(ARTICLE)
    second = front.get(ARTICLE)

    assert first.status_code == second.status_code == 200
    assert first.headers["X-Cache"] == "MISS"
    assert second.headers["X-Cache"] == "HIT"
    assert second.text == first.text
    assert "X-Accel-Expires" not in second.headers  # nginx keeps it to itself
    assert "Content-Security-Policy" in second.headers  # the kept page keeps its headers


def test_pages_come_back_compressed_to_a_browser_that_asks(front):
    gzip = {"Accept-Encoding": "gzip"}
    merchant = _signed_in("merchant", "kitty-merchant")
    fresh, kept, personal = (
        front.get(ARTICLE, headers=gzip),
        front.get(ARTICLE, headers=gzip),  # from the front's cache
        front.get(ARTICLE, headers={**gzip, **merchant}),
    )

    for page in (fresh, kept, personal):
        assert page.status_code == 200
        assert page.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in page.headers["Vary"]
        assert "An Order Did Not Import" in page.text  # httpx unpacks it as a browser does
    assert kept.headers["X-Cache"] == "HIT"
    assert fresh.num_bytes_downloaded < len(fresh.content) / 2  # bytes on the wire, then unpacked
    # A client that does not ask gets the page as it is.
    plain = front.get(ARTICLE, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.text == kept.text


def test_a_signed_in_merchant_is_never_answered_from_nor_stored_in_the_front(front):
    front.get(ARTICLE)  # the anonymous page is kept

    mine = front.get(ARTICLE, headers=_signed_in("merchant", "kitty-merchant"))
    anonymous = front.get(ARTICLE)

    assert mine.headers["X-Cache"] == "BYPASS"
    assert "Check this now" in mine.text and "Main store" in mine.text
    assert anonymous.headers["X-Cache"] == "HIT"
    assert "Check this now" not in anonymous.text and "Main store" not in anonymous.text


def test_what_the_app_does_not_mark_is_never_kept(front):
    searches = [front.get("/help/", params={"q": "import"}) for _ in range(2)]
    sign_in = [front.get("/accounts/login/") for _ in range(2)]

    assert [r.headers["X-Cache"] for r in searches] == ["BYPASS", "BYPASS"]
    assert "An Order Did Not Import" in searches[1].text
    # A page that sets a cookie (the CSRF token) is not under /help/ and says no-store: never kept.
    assert all("X-Cache" not in r.headers for r in sign_in)
    assert sign_in[0].cookies.get("csrftoken") != sign_in[1].cookies.get("csrftoken")


def test_a_published_edit_reaches_anonymous_readers_within_the_front_cache_time(front):
    assert "Most fixes are quick" in front.get(ARTICLE).text
    article_import(
        data=SEED_ARTICLE.read_bytes().replace(b"Most fixes are quick", b"Most fixes are fast"),
        slug="order-did-not-import",
    )

    deadline = time.monotonic() + 2 + 3  # HELP_PAGE_FRONT_CACHE_SECONDS, and a margin
    while "Most fixes are fast" not in (page := front.get(ARTICLE)).text:
        assert time.monotonic() < deadline, "the edit did not reach readers in time"
        time.sleep(0.2)
    assert page.status_code == 200


def test_every_step_starts_and_their_polls_go_to_web_processes_of_their_own(lanes):
    client, lane = lanes
    some = uuid.uuid4()

    every_step = httpx.post(f"{client.base_url}/checks/start/every-step/", data={"all": "1"}, timeout=10)
    summary = client.get(f"/checks/diagnoses/{some}/summary/?n=1")
    one_step = httpx.post(f"{client.base_url}/checks/start/", data={"block_id": "x"}, timeout=10)
    run = client.get(f"/checks/runs/{some}/")
    page = client.get(ARTICLE)

    assert every_step.text == summary.text == "diagnoses web"
    assert lane.paths == ["/checks/start/every-step/", f"/checks/diagnoses/{some}/summary/?n=1"]
    # A click on one step, its polls and pages stay with the app's other processes.
    assert "diagnoses web" not in (one_step.text + run.text + page.text)
    assert "An Order Did Not Import" in page.text


# --- HTTPS behind the front -------------------------------------------------
# TLS ends at a proxy in front of nginx (a load balancer, a CDN); these requests are that
# proxy's, made from the address the front trusts (127.0.0.1), or a client's, made from
# another one (127.0.0.2). The app runs in gunicorn with production's security settings.

SITE = "help.example.test"


def _web_process_spawn(workdir, *extra_arguments: str) -> tuple[object, int]:
    """gunicorn serving the test database with HTTPS redirect and HSTS on, as DEBUG=0 has them."""
    import subprocess
    import sys

    from django.conf import settings

    from tests.conftest import _database_url_for_workers

    port = _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_workers(),
        "DEBUG": "1",  # static files from the finders; the security settings below are production's
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "ALLOWED_HOSTS": SITE,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(workdir / "gunicorn.log", "w")  # noqa: SIM115 (lives as long as the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "kitty_troubleshoot.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "gthread", "--threads", "4", "--no-control-socket",
         *extra_arguments],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"Host": SITE}, timeout=2)
            if health.status_code == 200:
                return process, port
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not answer: {(workdir / 'gunicorn.log').read_text()[-3000:]}")
        time.sleep(0.1)


def _secure_front_start(tmp_path, settings, *, logs: bool = False):
    """(nginx, gunicorn, the front's URL): HTTPS enforced; with ``logs``, both keep access logs under tmp_path."""
    postgresql_required("gunicorn reads the test database, which must be PostgreSQL (set DATABASE_URL)")
    if nginx_local.nginx_binary() is None:
        service_missing("nginx is not installed (apt-get install -y nginx-light)")
    # The demo's passwords hashed as gunicorn's settings can check them (the tests' fast hasher is not there).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    access = ("--access-logfile", str(tmp_path / "web" / "access.log")) if logs else ()
    web, web_port = _web_process_spawn(tmp_path / "web", *access)
    port = _free_port()
    try:
        nginx = nginx_local.start(
            port=port,
            upstream_port=web_port,
            workdir=tmp_path / "nginx",
            access_log=f"{tmp_path / 'nginx' / 'access.log'} kitty_paths" if logs else "off",
        )
    except Exception:
        web.kill()
        raise
    return nginx, web, f"http://127.0.0.1:{port}"


def _secure_front_stop(nginx, web) -> None:
    nginx_local.stop(nginx)
    web.terminate()
    web.wait(timeout=20)


@pytest.fixture
def secure_front(transactional_db, tmp_path, settings):
    """nginx in front of gunicorn with HTTPS enforced; yields the front's base URL."""
    nginx, web, url = _secure_front_start(tmp_path, settings)
    try:
        yield url
    finally:
        _secure_front_stop(nginx, web)


def _via_tls_proxy(**headers) -> dict[str, str]:
    return {"Host": SITE, "X-Forwarded-Proto": "https", **headers}


def test_a_page_asked_for_over_https_is_served_with_hsts_and_no_redirect(secure_front):
    page = httpx.get(f"{secure_front}{ARTICLE}", headers=_via_tls_proxy(), timeout=10, trust_env=False)

    assert page.status_code == 200
    assert "An Order Did Not Import" in page.text
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_plain_http_is_sent_to_https_once(secure_front):
    with httpx.Client(base_url=secure_front, trust_env=False, timeout=10) as client:
        plain = client.get(ARTICLE, headers={"Host": SITE, "X-Forwarded-Proto": "http"})
        followed = client.get(ARTICLE, headers=_via_tls_proxy())

    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://{SITE}{ARTICLE}"
    assert "Strict-Transport-Security" not in plain.headers  # HSTS only over HTTPS
    assert followed.status_code == 200


def test_a_client_cannot_claim_https_past_the_proxy(secure_front):
    # Straight to the front from an address that is not the TLS proxy's: its header is not believed.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, trust_env=False, timeout=10) as client:
        spoofed = client.get(f"{secure_front}{ARTICLE}", headers=_via_tls_proxy())

    assert spoofed.status_code == 301
    assert spoofed.headers["Location"].startswith("https://")


def test_signing_in_from_an_https_page_is_accepted(secure_front):
    with httpx.Client(base_url=secure_front, trust_env=False, timeout=10) as client:
        form = client.get("/accounts/login/", headers=_via_tls_proxy())
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        signed_in = client.post(
            "/accounts/login/?next=/help/",
            data={"username": "merchant", "password": "kitty-merchant", "csrfmiddlewaretoken": token},
            headers=_via_tls_proxy(Origin=f"https://{SITE}", Referer=f"https://{SITE}/accounts/login/"),
        )

    assert form.status_code == 200
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert signed_in.headers["Location"] == "/help/"
    assert "sessionid" in signed_in.cookies


def test_the_front_passes_on_the_host_without_its_port_and_the_app_refuses_strangers(secure_front):
    with httpx.Client(base_url=secure_front, trust_env=False, timeout=10) as client:
        with_port = client.get(ARTICLE, headers=_via_tls_proxy(Host=f"{SITE}:443"))
        stranger = client.get(ARTICLE, headers=_via_tls_proxy(Host="evil.example"))

    assert with_port.status_code == 200
    assert stranger.status_code == 400


# --- Logs -------------------------------------------------------------------
ORDER_NUMBER = "8675309"
SECRETS = {"code": "c0de-5ecret", "state": "st4te-t0ken", "hmac": "ab12cd34ef56"}


def test_no_order_number_code_state_or_hmac_reaches_any_log(celery_worker, tmp_path, settings):
    """Through the front, gunicorn and the worker: a diagnosis, a search and an OAuth callback."""
    from apps.checks.models import CheckRun
    from apps.commerce.models import Plugin
    from tests.conftest import PROCESS_SUFFIX, wait_for
    from tests.factories import fresh_order

    settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET = "app-client-id", "shpss_secret"
    nginx, web, url = _secure_front_start(tmp_path, settings, logs=True)
    try:
        main = Plugin.objects.get(name__contains="Main store")
        fresh_order(main, number=ORDER_NUMBER)
        with httpx.Client(base_url=url, trust_env=False, timeout=30, headers=_via_tls_proxy()) as client:
            form = client.get("/accounts/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            client.post(
                "/accounts/login/",
                data={"username": "merchant", "password": "kitty-merchant", "csrfmiddlewaretoken": token},
                headers={"Origin": f"https://{SITE}"},
            )
            article = client.get(ARTICLE)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', article.text).group(1)
            page_id = re.search(r'name="page" value="(\d+)"', article.text).group(1)
            started = client.post(
                "/checks/start/every-step/",
                data={"page": page_id, "subject": main.pk, "order_number": ORDER_NUMBER, "all": "1"},
                headers={"Origin": f"https://{SITE}", "X-CSRFToken": token},
            )
            assert started.status_code in {200, 302, 303}
            wait_for(
                lambda: (
                    CheckRun.objects.filter(inputs__order_number=ORDER_NUMBER).exists()
                    and not CheckRun.objects.filter(status__in=["queued", "running"]).exists()
                ),
                timeout=60,
            )
            client.get(ARTICLE)
            client.get("/help/", params={"q": f"order {ORDER_NUMBER}"})
            client.get("/account/oauth/shopify/callback/", params={**SECRETS, "shop": "kitty.myshopify.com"})
    finally:
        _secure_front_stop(nginx, web)

    logs = {
        "nginx access": tmp_path / "nginx" / "access.log",
        "gunicorn access": tmp_path / "web" / "access.log",
        "app (gunicorn's output)": tmp_path / "web" / "gunicorn.log",
        **{
            f"{lane} worker": Path(settings.BASE_DIR) / "var" / f"test-worker-{lane}{PROCESS_SUFFIX}.log"
            for lane in WORKER_LANES
        },
    }
    texts = {name: path.read_text() for name, path in logs.items()}
    assert "/account/oauth/shopify/callback/" in texts["nginx access"]  # the requests were logged
    assert "/checks/start/every-step/" in texts["gunicorn access"]
    found = [
        f"{what} in the {name} log"
        for name, text in texts.items()
        for what in (ORDER_NUMBER, *SECRETS.values())
        if what in text
    ]
    assert found == []


# --- Every language's help center --------------------------------------------------


def _translated(language: str) -> str:
    from apps.help.models import TroubleshootingPage

    source = TroubleshootingPage.objects.get(slug="order-did-not-import", locale__language_code="en")
    return source.get_translations().get(locale__language_code=language).url


@pytest.mark.translations
def test_german_and_french_help_pages_are_kept_by_the_front_each_in_its_language(front):
    for path, words in (
        ("/de/help/", 'lang="de"'),
        (_translated("de"), "Eine Bestellung wurde nicht importiert"),
        ("/fr/help/", 'lang="fr"'),
        (_translated("fr"), "Une commande n’a pas été importée"),
    ):
        first, second = front.get(path), front.get(path)

        assert first.status_code == second.status_code == 200, path
        assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT"), path
        assert words in second.text
        assert second.text == first.text


@pytest.mark.translations
@pytest.mark.parametrize(
    "reader",
    [
        {"Cookie": "django_language=de"},  # chose German in the switcher
        {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"},  # a German browser
        {"Accept-Language": "da, fr;q=0.8"},  # French is the first of the site's languages it names
    ],
)
def test_an_english_address_kept_by_the_front_still_sends_other_readers_to_their_language(front, reader):
    english = front.get(ARTICLE)
    assert front.get(ARTICLE).headers["X-Cache"] == "HIT"

    sent = front.get(ARTICLE, headers=reader)

    assert sent.status_code == 302
    assert sent.headers["Location"] in (_translated("de"), _translated("fr"))
    kept = front.get(ARTICLE)  # the redirect was not stored in the English page's place
    assert (kept.status_code, kept.headers["X-Cache"]) == (200, "HIT")
    assert kept.text == english.text


@pytest.mark.translations
def test_a_reader_who_chose_english_is_answered_from_the_front_whatever_the_browser_says(front):
    front.get(ARTICLE)

    answer = front.get(ARTICLE, headers={"Cookie": "django_language=en", "Accept-Language": "de"})

    assert answer.status_code == 200
    assert "An Order Did Not Import" in answer.text
