"""The demo site the browser tests drive, and signing in to it."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import wagtail_tree_ensure

ARTICLE = "/help/order-did-not-import/"


@pytest.fixture
def demo_site(celery_worker, live_server):
    """The demo account and article, as ./dev demo leaves them, served with a real worker."""
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    return live_server


def sign_in(page, base_url, *, username="merchant", password="kitty-merchant"):
    page.goto(f"{base_url}/accounts/login/?next={ARTICLE}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="An Order Did Not Import")).to_be_visible()
