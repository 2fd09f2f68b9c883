"""Fixtures shared by every test package."""

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

SEED_ARTICLE = Path(settings.BASE_DIR) / "content" / "order-did-not-import.txt"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_missing(reason: str):
    """Locally a missing service skips its tests; in CI it is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(f"{reason}; CI runs this test")


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


@pytest.fixture
def article(db, seed_article_bytes):
    """The seed article, imported and published like the demo does."""
    from apps.help.services import article_import

    return article_import(data=seed_article_bytes, slug=SEED_ARTICLE.stem).page


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
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
def _fast_password_hashing(settings):
    # Real hashing costs ~300 ms a password; tests check behaviour, not cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
