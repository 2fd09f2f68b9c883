"""With the broker or Redis down, the article still renders and the widget says checks are unavailable."""

import pytest
from django.test import Client

from tests.checks.conftest import plugin_named, start
from tests.html import text

pytestmark = pytest.mark.django_db


def test_broker_down_says_checks_are_unavailable_and_the_article_still_renders(
    merchant_client, page, monkeypatch
):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("apps.checks.tasks.run_checks.apply_async", broker_down)

    response = start(merchant_client, page, plugin_named("Main store"), step=1)

    assert response.status_code == 200
    assert "Checks are unavailable right now" in text(response.content.decode())
    assert merchant_client.get(page.url).status_code == 200


def test_redis_down_still_serves_the_article_and_says_checks_are_unavailable(
    merchant_client, page, monkeypatch, settings
):
    from kombu.exceptions import OperationalError

    # Nothing listens on port 1: every cache call (page cache, Wagtail's site
    # lookup, the check rate limit) fails to connect, as does the broker.
    settings.CACHES = {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr("apps.checks.tasks.run_checks.apply_async", broker_down)

    anonymous = Client().get(page.url)
    assert anonymous.status_code == 200
    assert "Step 7." in text(anonymous.content.decode())
    assert merchant_client.get(page.url).status_code == 200
    response = start(merchant_client, page, plugin_named("Main store"), step=1)
    assert response.status_code == 200
    assert "Checks are unavailable right now" in text(response.content.decode())
