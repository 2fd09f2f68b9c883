"""Editors choose a step's check from cards that explain each; history and compare name checks by title."""

import html
import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Revision

from apps.checks.registry import check_catalog
from apps.help.models import CheckChoiceBlock, StepBlock
from apps.help.services import support_editors_group_ensure
from tests.factories import UserFactory


@pytest.fixture
def editor(db, article):
    user = UserFactory(username="editor", first_name="Edie", last_name="Tor")
    user.groups.add(support_editors_group_ensure())
    return user


def chooser_html(value=None) -> str:
    return StepBlock().child_blocks["check"].field.widget.render("check", value, attrs={"id": "check"})


def test_the_chooser_shows_each_checks_title_what_it_looks_at_where_it_belongs_and_its_fixes(db):
    rendered = html.unescape(chooser_html("import_orders_enabled"))
    assert "<select" not in rendered
    for check in check_catalog():
        assert check.title in rendered
        assert check.description in rendered
        assert check.meant_for() in rendered
        for note in check.fix_notes:
            assert note in rendered
    assert "An Order Did Not Import, Step 1" in rendered
    assert "Turn on Import Orders (owners only)" in rendered
    assert "No check" in rendered


def test_the_chosen_check_is_the_checked_card(db):
    rendered = chooser_html("manual_sync")
    assert rendered.count(" checked") == 1
    assert 'value="manual_sync" id="check_' in rendered.split(" checked")[0].rsplit("<input", 1)[1]


def test_the_chooser_is_a_radio_group_named_as_its_field_reads(db):
    """Django points a radio list's <label> at no input: without a name of its own the group is only radios."""
    assert '<div class="check-chooser" role="radiogroup" aria-label="Check"' in chooser_html()
    relabelled = StepBlock(local_blocks=[("check", CheckChoiceBlock(label="Live check", required=False))])
    widget = relabelled.child_blocks["check"].field.widget
    assert 'aria-label="Live check"' in widget.render("check", "", attrs={"id": "check"})


def test_the_page_editor_offers_the_chooser_and_its_stylesheet(client, editor, article):
    client.force_login(editor)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "css/check_chooser.css" in content
    assert "check-chooser__card" in content


def test_the_step_titles_help_text_reads_as_written(client, editor, article):
    """Wagtail puts help text in the page as HTML: "<title>" must arrive escaped, not as a tag."""
    client.force_login(editor)
    content = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()
    # The block definitions travel as JSON in an attribute; its strings hold the HTML the editor inserts.
    strings = re.findall(r'"((?:[^"\\]|\\.)*Step N\.(?:[^"\\]|\\.)*)"', html.unescape(content))
    assert {json.loads(f'"{raw}"') for raw in strings} == {"Shown as “Step N. &lt;title&gt;”."}


def test_compare_names_checks_by_title(client, editor, article):
    before = article.latest_revision
    draft = article.get_latest_revision_as_object()
    raw = draft.body.raw_data
    step_7 = [block for block in raw if block["type"] == "step"][6]
    assert step_7["value"]["check"] == "manual_sync"
    step_7["value"]["check"] = ""
    draft.body = raw
    after = draft.save_revision(user=editor)
    client.force_login(editor)
    url = reverse("wagtailadmin_pages:revisions_compare", args=[article.pk, before.pk, after.pk])
    content = html.unescape(client.get(url).content.decode())
    assert "Would a sync bring it in?" in content
    assert "No check" in content
    assert "manual_sync" not in content


def test_the_demo_articles_revisions_name_their_author(client, db):
    from tests.conftest import wagtail_tree_ensure

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    revisions = Revision.objects.filter(content_type__model="troubleshootingpage")
    assert revisions.exists()
    assert all(revision.user is not None for revision in revisions)
    admin = UserFactory(username="boss", is_superuser=True)
    client.force_login(admin)
    revision = revisions.order_by("pk").first()
    url = reverse("wagtailadmin_pages:revisions_revert", args=[revision.object_id, revision.pk])
    content = client.get(url).content.decode()
    assert "by None" not in content
    assert "editor" in content


def test_a_revision_saved_by_a_command_without_a_user_reads_system(client, editor, article):
    revision = article.latest_revision
    assert revision.user is None  # imported by the fixture, as `import_article` does without --user
    client.force_login(editor)
    url = reverse("wagtailadmin_pages:revisions_revert", args=[article.pk, revision.pk])
    content = " ".join(client.get(url).content.decode().split())
    assert "None" not in content.split("You are viewing a previous version")[1][:600]
    assert "System" in content.split("You are viewing a previous version")[1][:600]


def test_import_article_saves_the_revision_by_the_user_named(db, seed_article_bytes, tmp_path, editor):
    path = tmp_path / "order-did-not-import.txt"
    path.write_bytes(seed_article_bytes)
    call_command("import_article", str(path), "--user", "editor", stdout=StringIO())
    assert Revision.objects.order_by("-pk").first().user == editor


def steps_with_checks(article, *checks):
    """The article's raw body with its steps' checks set to ``checks``, in order (None: unchanged)."""
    raw = article.get_latest_revision_as_object().body.raw_data
    steps = [block for block in raw if block["type"] == "step"]
    for step, check in zip(steps, checks, strict=False):
        if check is not None:
            step["value"]["check"] = check
    return raw


def test_a_check_already_on_another_step_is_refused_with_a_clear_message(article):
    from django.core.exceptions import ValidationError

    body = article.body.stream_block
    # Step 2 gets Step 1's check.
    value = body.to_python(steps_with_checks(article, None, "import_orders_enabled"))

    with pytest.raises(ValidationError) as refused:
        body.clean(value)

    errors = refused.value.block_errors
    assert list(errors) == [0, 1]  # both steps say so, each naming the other
    first, second = (errors[i].block_errors["check"].messages[0] for i in (0, 1))
    assert first.startswith("“Import Orders on?” is also the check of Step 2.")
    assert second.startswith("“Import Orders on?” is also the check of Step 1.")
    assert "choose another check, or No check" in second


def test_steps_without_a_check_and_distinct_checks_are_accepted(article):
    body = article.body.stream_block
    body.clean(body.to_python(steps_with_checks(article, "", "")))
    body.clean(body.to_python(steps_with_checks(article)))


def test_saving_a_draft_with_a_check_on_two_steps_says_which_step_has_it(client, editor, article):
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    raw = steps_with_checks(article, None, None, None, None, None, None, "plugin_authorized")
    blocks = []
    for block in raw:
        value = dict(block["value"])
        if block["type"] == "step":
            value["body"] = rich_text(value["body"])
        else:
            value["body"] = rich_text(value["body"])
            value["ticket_items"] = streamfield([("item", item) for item in value["ticket_items"]])
        blocks.append((block["type"], value))
    data = nested_form_data(
        {
            "title": article.title,
            "slug": article.slug,
            "intro": rich_text(article.intro),
            "body": streamfield(blocks),
            "comments": {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000},
        }
    )
    client.force_login(editor)
    before = article.latest_revision_id

    response = client.post(reverse("wagtailadmin_pages:edit", args=[article.pk]), data)

    assert response.status_code == 200  # the form again, not a redirect
    article.refresh_from_db()
    assert article.latest_revision_id == before
    # The errors travel to the StreamField's script as JSON, on Steps 5 and 7.
    content = html.unescape(response.content.decode())
    messages = [
        json.loads(f'"{raw}"') for raw in re.findall(r'"check": \{"messages": \["((?:[^"\\]|\\.)*)"', content)
    ]
    assert [m.split(". A check")[0] for m in messages] == [
        "“Plugin authorized?” is also the check of Step 7",
        "“Plugin authorized?” is also the check of Step 5",
    ]
