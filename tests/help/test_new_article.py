"""An article written from scratch in the page editor: its preview before the first save, and readers' questions."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from apps.help.models import HelpIndexPage, TroubleshootingPage

HTMX = {"HTTP_HX_REQUEST": "true"}
TITLE = "Orders Arrive Late"


@pytest.fixture
def editor(article):
    """The demo's support editor, with the demo's accounts (and so the sandbox's plugins) in place."""
    call_command("demo_setup", stdout=StringIO())
    return get_user_model().objects.get(username="editor")


def new_article_form(steps: list[tuple[str, str]]) -> dict:
    """The page editor's form for a new article: (title, check key) per step."""
    body = [
        ("step", {"title": title, "body": rich_text("<p>Look.</p>"), "check": key}) for title, key in steps
    ]
    return nested_form_data(
        {
            "title": TITLE,
            "slug": "orders-arrive-late",
            "intro": rich_text(""),
            "body": streamfield(body),
            "comments": inline_formset([]),
        }
    )


def test_a_new_articles_preview_shows_its_steps_and_runs_their_checks_before_its_first_save(client, editor):
    client.force_login(editor)
    index = HelpIndexPage.objects.get(locale__language_code="en")
    preview = reverse("wagtailadmin_pages:preview_on_add", args=["help", "troubleshootingpage", index.pk])
    form = new_article_form(
        [
            ("Has the buyer paid?", "source_order_state"),
            ("When does it sync?", ""),
            ("Still on?", "import_orders_enabled"),
        ]
    )
    assert client.post(preview, form).json()["is_valid"]

    response = client.get(preview)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview — sandbox data" in html
    assert re.findall(r'<section class="step" id="(step-\d+)"', html) == ["step-1", "step-2", "step-3"]
    assert html.count("Check this now") == 2  # Step 2 has no check

    token = re.search(r'name="preview" value="([^"]+)"', html).group(1)
    outlet = re.search(r'<option value="(\d+)"[^>]*>Demo Marketplace – Outlet</option>', html).group(1)
    started = client.post(
        reverse("checks:start_every_step"),
        {"preview": token, "subject": outlet, "order_number": "2001", "page": "", "all": "1"},
        **HTMX,
    )
    assert started.status_code == 200
    answer = started.content.decode()
    assert "Most likely cause: Step 3." in answer  # Import Orders is off on the sandbox's Outlet
    assert "of 2 steps passed" in answer
    assert not TroubleshootingPage.objects.filter(title=TITLE).exists()  # checked without being saved


def test_a_preview_does_not_ask_the_editor_whether_the_article_helped(client, editor, article):
    client.force_login(editor)
    revision = article.latest_revision
    html = client.get(
        reverse("wagtailadmin_pages:revisions_view", args=[article.pk, revision.pk])
    ).content.decode()
    assert "Preview — sandbox data" in html
    assert "Yes, it helped" not in html
    assert "Readers are asked “Was this article helpful?” here." in html

    client.logout()
    assert "Yes, it helped" in client.get(article.url).content.decode()  # readers are still asked
