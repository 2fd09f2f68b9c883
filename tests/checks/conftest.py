import re

import pytest
from django.core.management import call_command

from apps.commerce.models import Plugin

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def live_demo(celery_worker, client):
    """The demo, committed for a real worker (eager without a broker), the merchant signed in; the article."""
    from io import StringIO

    from wagtail.models import Page

    from tests.conftest import wagtail_tree_ensure

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    assert client.login(username="merchant", password="kitty-merchant")
    return Page.objects.get(slug="order-did-not-import").specific


@pytest.fixture
def page(demo):
    """The article, as the demo publishes it (these tests drive it without a browser)."""
    from wagtail.models import Page

    return Page.objects.get(slug="order-did-not-import").specific


@pytest.fixture
def merchant_client(client, demo):
    assert client.login(username="merchant", password="kitty-merchant")
    return client


def plugin_named(fragment: str) -> Plugin:
    return Plugin.objects.get(name__contains=fragment)


@pytest.fixture
def tasks_held(monkeypatch):
    """Checks are queued but no worker picks them up, until the test runs check_runs_execute."""
    monkeypatch.setattr(
        "apps.checks.tasks.run_checks.apply_async", lambda *a, **k: type("R", (), {"id": "t"})()
    )


def step_block(page, number: int) -> str:
    return page.steps[number - 1].id


def start(client, page, plugin, *, step=None, number="", htmx=True, **extra):
    """Start the check of one step (or every step, without ``step``) as the article's widget does."""
    data = {"page": page.pk, "subject": plugin.pk if plugin else "", "order_number": number, **extra}
    if step is None:
        data["all"] = "1"
    else:
        data["block_id"] = step_block(page, step)
    return client.post("/checks/start/", data, **(HTMX if htmx else {}))


def status_of(html: str) -> str:
    """The status of the step an answer is about: the first widget in it that has been checked.

    An answer about one step carries the others out of band, and a fix's answer
    carries every step, checked again; steps never checked stay idle.
    """
    statuses = re.findall(r'data-check-status="([a-z-]+)"', html)
    return next((status for status in statuses if status != "idle"), statuses[0])


@pytest.fixture
def hanging_shopify(live_demo):
    """(store, plugin): a Shopify plugin of the demo merchant whose store holds each order lookup 30 s.

    ``store.release()`` answers everything at once from then on; the store stops after the test.
    """
    from tests.factories import PluginFactory
    from tests.slow_store import SlowShopifyStore, days_ago

    store = SlowShopifyStore(count=5, first_placed_at=days_ago(1), page_seconds=30)
    try:
        plugin = PluginFactory(
            merchant=plugin_named("EU store").merchant,
            platform="shopify",
            name="Slow Shopify",
            credentials=store.credentials(),
        )
        yield store, plugin
    finally:
        store.stop()
