"""The public help pages, as a reader gets them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.help.services import article_import

pytestmark = pytest.mark.django_db

ARTICLE_URL = "/help/order-did-not-import/"


def test_article_shows_title_intro_steps_in_order_bullets_and_still_missing(client, article):
    response = client.get(ARTICLE_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>An Order Did Not Import</h1>" in html
    assert "When a marketplace order shows up on the source platform" in html
    assert re.findall(r'<section class="step" id="(step-\d+)"', html) == [f"step-{n}" for n in range(1, 8)]
    assert re.search(r"Step 2\.</span> Confirm the plugin is on exactly one channel</h2>", html)
    assert "<li>Trigger a backfill if the plugin supports it" in html
    assert "<li>API rate limit: The platform is throttling the plugin." in html
    assert '<section class="still-missing" id="still-missing"' in html
    assert "<li>What you have already tried</li>" in html


def test_article_works_without_javascript_and_without_a_cdn(client, article):
    html = client.get(ARTICLE_URL).content.decode()

    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts == ["/static/vendor/htmx/htmx-2.0.11.min.js", "/static/js/site.js", "/static/js/checks.js"]
    assert not re.findall(r"<script(?![^>]*\bsrc=)", html)  # nothing inline: the CSP would refuse it
    assert 'name="viewport"' in html


def test_vendored_htmx_is_served(client):
    response = client.get("/static/vendor/htmx/htmx-2.0.11.min.js")

    assert response.status_code == 200
    assert b"htmx" in b"".join(response.streaming_content)[:200]


def make_article(steps: int) -> bytes:
    lines = ["Many Steps", "Intro."]
    for n in range(1, steps + 1):
        lines += [f"Step {n}. Step number {n}", f"Text of step {n}.", "- a bullet"]
    lines += ["Still missing?", "Ask us:", "- the order number"]
    return "\n".join(lines).encode()


@pytest.mark.parametrize("steps", [1, 7, 40])
def test_article_queries_do_not_grow_with_the_number_of_steps(client, steps):
    article_import(data=make_article(steps), slug="many-steps")

    # A signed-in reader bypasses the anonymous cache, so this counts the real work.
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("reader"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/help/many-steps/")

    assert response.status_code == 200
    assert response.content.decode().count('<section class="step"') == steps
    # 12 before languages; Wagtail's locale routing reads the active locale and the home page's
    # translation in it, and the page's translations (switcher, hreflang) are one more.
    assert len(queries) <= 15, [q["sql"] for q in queries]


def test_anonymous_readers_get_the_cached_page_until_it_is_republished(client, seed_article_bytes, article):
    client.get(ARTICLE_URL)
    with CaptureQueriesContext(connection) as queries:
        cached = client.get(ARTICLE_URL)
    assert cached.status_code == 200
    assert len(queries) == 0

    article_import(
        data=seed_article_bytes.replace(b"Most fixes are quick", b"Most fixes are fast"),
        slug="order-did-not-import",
    )

    assert "Most fixes are fast" in client.get(ARTICLE_URL).content.decode()


def test_help_center_lists_articles_and_searches_them(client, article):
    index = client.get("/help/")
    assert index.status_code == 200
    assert 'href="/help/order-did-not-import/">An Order Did Not Import</a>' in index.content.decode()

    found = client.get("/help/", {"q": "import"}).content.decode()
    assert "An Order Did Not Import" in found

    missing = client.get("/help/", {"q": "zebra crossing"}).content.decode()
    assert "No article matches “zebra crossing”" in missing
    assert "An Order Did Not Import</a>" not in missing


def test_each_article_in_the_list_says_what_it_is_about(client, article):
    index = client.get("/help/").content.decode()

    card = index[index.index('class="article-card"') :]
    assert "When a marketplace order shows up on the source platform but never appears" in card


def test_an_article_written_without_a_search_description_is_listed_with_its_introduction(client, article):
    """The page editor keeps the search description on its Promote tab: an article written there rarely has one."""
    article.search_description = ""
    article.save_revision().publish()

    index = client.get("/help/").content.decode()
    card = index[index.index('class="article-card"') :]
    assert "<p>When a marketplace order shows up on the source platform but never appears" in card


def test_root_redirects_to_the_help_center(client):
    assert client.get("/").headers["Location"] == "/help/"


def test_unknown_help_page_is_a_404(client, article):
    assert client.get("/help/no-such-article/").status_code == 404


def test_healthz_reaches_the_database(client):
    assert client.get("/healthz").json() == {"ok": True}


def test_not_found_page_matches_the_site(client, settings):
    settings.DEBUG = False

    page = client.get("/help/no-such-article/")
    assert page.status_code == 404
    assert "We can't find that" in page.content.decode()
