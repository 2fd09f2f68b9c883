"""`manage.py import_article`: the seed text becomes a page, again and again, and garbage changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from wagtail.models import Revision

from apps.help.models import TroubleshootingPage

pytestmark = pytest.mark.django_db

SEED_STEP_TITLES = [
    "Confirm the plugin has Import Orders enabled",
    "Confirm the plugin is on exactly one channel",
    "Check the order's age",
    "Check for plugin errors",
    "Check the plugin authorization",
    "Verify the order really exists on the source platform",
    "Force a manual sync if available",
]


def run_import(path, *extra) -> str:
    out = StringIO()
    call_command("import_article", str(path), *extra, stdout=out)
    return out.getvalue()


def test_seed_article_becomes_a_published_page_with_seven_steps_and_still_missing(
    tmp_path, seed_article_bytes
):
    path = tmp_path / "order-did-not-import.txt"
    path.write_bytes(seed_article_bytes)

    output = run_import(path)

    page = TroubleshootingPage.objects.get()
    assert page.live
    assert page.title == "An Order Did Not Import"
    assert page.url == "/help/order-did-not-import/"
    assert "Created “An Order Did Not Import” (7 steps)" in output
    assert "When a marketplace order shows up" in page.intro
    assert [step.value["title"] for step in page.steps] == SEED_STEP_TITLES
    step_3 = page.steps[2].value["body"].source
    assert "<ul><li>Trigger a backfill" in step_3
    assert "<li>Create the order manually using the order wizard</li></ul>" in step_3
    tail = page.body[-1]
    assert tail.block_type == "still_missing"
    assert list(tail.value["ticket_items"]) == [
        "The order number from the source platform",
        "The platform name and the plugin you expect it to import through",
        "When the order was placed",
        "What you have already tried",
    ]


def test_importing_again_adds_a_revision_to_the_same_page(tmp_path, seed_article_bytes):
    path = tmp_path / "order-did-not-import.txt"
    path.write_bytes(seed_article_bytes)
    run_import(path)
    page = TroubleshootingPage.objects.get()
    first_step_ids = [step.id for step in page.steps]

    path.write_bytes(seed_article_bytes.replace(b"wait a few minutes", b"wait five minutes"))
    output = run_import(path)

    assert TroubleshootingPage.objects.count() == 1
    page = TroubleshootingPage.objects.get()
    assert Revision.page_revisions.filter(object_id=str(page.pk)).count() == 2
    assert "Updated “An Order Did Not Import”" in output
    assert "wait five minutes" in page.steps[0].value["body"].source
    # Block ids survive, so anything that points at a step still finds it.
    assert [step.id for step in page.steps] == first_step_ids


def test_draft_import_leaves_the_live_page_alone(tmp_path, seed_article_bytes):
    path = tmp_path / "order-did-not-import.txt"
    path.write_bytes(seed_article_bytes)
    run_import(path)
    path.write_bytes(seed_article_bytes.replace(b"wait a few minutes", b"wait an hour"))

    run_import(path, "--draft")

    page = TroubleshootingPage.objects.get()
    assert "wait a few minutes" in page.steps[0].value["body"].source
    assert page.has_unpublished_changes


MALFORMED = {
    "empty file": (b"", "line 1: the file is empty"),
    "only blank lines": (b"\n\n  \n", "line 1: the file is empty"),
    "binary file": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 3: this is a binary file"),
    "not utf-8": (b"Title\nIntro\nStep 1. A\n\xff\xfe bad\n", "line 4: this is not UTF-8 text"),
    "no title": (b"Step 1. First\nBody.\n", "line 1: expected the article's title"),
    "no steps": (b"A title\nAn intro.\nMore intro.\n", "line 3: the article has no steps"),
    "step out of order": (
        b"A title\nIntro.\nStep 1. One\nBody.\nStep 3. Three\nBody.\n",
        "line 5: expected Step 2, found Step 3",
    ),
    "step without title": (b"A title\nStep 1.\nBody.\n", "line 2: Step 1 has no title"),
    "step without text": (
        b"A title\nStep 1. One\nStep 2. Two\nBody.\n",
        "line 2: Step 1 has no text",
    ),
    "misspelt heading": (
        b"A title\nStep 1. One\nBody.\nStep two. Two\n",
        "line 4: 'Step two. Two' looks like a step",
    ),
    "step heading without its dot": (
        b"A title\nStep 1. One\nBody.\nStep 2 Two\nBody.\n",
        "line 4: 'Step 2 Two' looks like a step heading; write it as “Step 2. Two”",
    ),
    "step after still missing": (
        b"A title\nStep 1. One\nBody.\nStill missing?\nAsk.\nStep 2. Two\nBody.\n",
        "line 6: Step 2 comes after “Still missing?”",
    ),
}


@pytest.mark.parametrize("content,message", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_article_names_the_line_and_changes_nothing(tmp_path, seed_article_bytes, content, message):
    good = tmp_path / "order-did-not-import.txt"
    good.write_bytes(seed_article_bytes)
    run_import(good)
    revisions_before = Revision.objects.count()
    bad = tmp_path / "order-did-not-import-broken.txt"
    bad.write_bytes(content)

    with pytest.raises(CommandError) as excinfo:
        run_import(bad, "--slug", "order-did-not-import")

    assert message in str(excinfo.value)
    assert "nothing was changed" in str(excinfo.value)
    assert Revision.objects.count() == revisions_before
    page = TroubleshootingPage.objects.get()
    assert len(page.steps) == 7


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        run_import(tmp_path / "nope.txt")


@pytest.mark.parametrize("name", ["статья.txt", "___.txt"])
def test_file_whose_name_makes_no_slug_is_updated_in_place_on_every_import(
    tmp_path, seed_article_bytes, name
):
    path = tmp_path / name
    path.write_bytes(seed_article_bytes)
    run_import(path)

    path.write_bytes(seed_article_bytes.replace(b"wait a few minutes", b"wait five minutes"))
    output = run_import(path)

    page = TroubleshootingPage.objects.get()
    assert page.url == "/help/an-order-did-not-import/"
    assert "Updated “An Order Did Not Import”" in output
    assert Revision.page_revisions.filter(object_id=str(page.pk)).count() == 2
    assert "wait five minutes" in page.steps[0].value["body"].source


def test_title_in_another_script_gives_the_slug_when_the_file_name_cannot(tmp_path):
    path = tmp_path / "___.txt"
    path.write_text("Заказ не пришёл\nStep 1. Проверьте плагин\nТекст.\n")
    run_import(path)

    output = run_import(path)

    page = TroubleshootingPage.objects.get()
    assert page.slug == "заказ-не-пришёл"
    assert "Updated “Заказ не пришёл”" in output


def test_no_slug_from_file_name_or_title_asks_for_one_and_changes_nothing(tmp_path):
    path = tmp_path / "___.txt"
    path.write_text("???\nStep 1. One\nBody.\n")

    with pytest.raises(CommandError) as excinfo:
        run_import(path)

    assert "pass one with --slug" in str(excinfo.value)
    assert "nothing was changed" in str(excinfo.value)
    assert not TroubleshootingPage.objects.exists()


UNREADABLE_CHECKS = {
    "not utf-8": (
        b"Step 1: import_orders_enabled\n# caf\xe9\nStep 2: order_age\n",
        "line 2: this is not UTF-8 text",
    ),
    "binary": (b"Step 1: import_orders_enabled\n\n\x00\x01", "line 3: this is a binary file"),
}


@pytest.mark.parametrize("checks,message", UNREADABLE_CHECKS.values(), ids=UNREADABLE_CHECKS.keys())
def test_unreadable_checks_file_names_the_file_and_line_and_changes_nothing(
    tmp_path, seed_article_bytes, checks, message
):
    path = tmp_path / "order-did-not-import.txt"
    path.write_bytes(seed_article_bytes)
    run_import(path)
    revisions_before = Revision.objects.count()
    path.write_bytes(seed_article_bytes.replace(b"wait a few minutes", b"wait five minutes"))
    checks_path = tmp_path / "order-did-not-import.checks"
    checks_path.write_bytes(checks)

    with pytest.raises(CommandError) as excinfo:
        run_import(path)

    assert f"{checks_path}: {message}" in str(excinfo.value)
    assert "nothing was changed" in str(excinfo.value)
    assert Revision.objects.count() == revisions_before
    assert "wait a few minutes" in TroubleshootingPage.objects.get().steps[0].value["body"].source
