"""What the article shows around its checks: a button per step or one sign-in link, the banner above
Step 1, and a page that stays cheap with a diagnosis on it."""

import re

import pytest

from tests.checks.conftest import plugin_named, start
from tests.html import text

pytestmark = pytest.mark.django_db


def test_signed_out_reader_sees_sign_in_links_not_buttons(client, page):
    html = client.get(page.url).content.decode()

    assert html.count("Sign in to check your account") == 1  # one call to action, not one per step
    assert "Check this now" not in html


def test_signed_in_merchant_sees_a_button_per_step_and_their_plugins(merchant_client, page):
    html = merchant_client.get(page.url).content.decode()

    assert html.count(">Check this now</button>") == 7
    assert html.count('data-check-status="idle"') == 7
    assert "Demo Marketplace – Main store" in html


def test_htmx_posts_carry_the_csrf_token(merchant_client, page):
    html = merchant_client.get(page.url).content.decode()

    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"[,}]", html)


def test_already_here_banner_shows_above_step_1(merchant_client, page):
    html = start(merchant_client, page, plugin_named("Main store"), number="1001").content.decode()

    assert "Order #1001 is already in Commerce Kitty." in text(html)
    assert 'id="already-here" hx-swap-oob="outerHTML"' in html
    page_html = merchant_client.get(page.url).content.decode()
    assert page_html.index('id="already-here"') < page_html.index('id="step-1"')


def test_page_queries_stay_flat_with_a_diagnosis(merchant_client, page, django_assert_max_num_queries):
    start(merchant_client, page, plugin_named("Main store"), number="1004")

    with django_assert_max_num_queries(30):
        response = merchant_client.get(page.url)

    assert response.content.decode().count('data-check-status="') == 7
