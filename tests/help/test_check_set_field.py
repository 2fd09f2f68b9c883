"""An article chooses its check set in the editor, and its steps may carry only that set's checks."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.checks import sets
from apps.checks.sets import CheckSet
from apps.help.services import support_editors_group_ensure
from tests.factories import UserFactory


class OnlyStepOne(CheckSet):
    key = "only-step-one"
    title = "An Article About Import Orders"
    check_keys = ("import_orders_enabled",)


@pytest.fixture
def only_step_one(monkeypatch):
    monkeypatch.setitem(sets._SETS, OnlyStepOne.key, OnlyStepOne)
    return OnlyStepOne


def test_the_editor_chooses_among_the_registered_sets_by_the_article_each_was_written_for(
    client, article, only_step_one
):
    editor = UserFactory()
    editor.groups.add(support_editors_group_ensure())
    client.force_login(editor)

    page = client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()

    assert 'name="check_set"' in page
    assert '<option value="order-import" selected>An Order Did Not Import</option>' in page
    assert '<option value="only-step-one">An Article About Import Orders</option>' in page


def test_a_step_whose_check_is_not_of_the_articles_set_is_refused_naming_the_step(article, only_step_one):
    article.check_set = only_step_one.key

    with pytest.raises(ValidationError) as refused:
        article.full_clean()

    message = " ".join(refused.value.message_dict["check_set"])
    assert message.startswith("Step 2 (On exactly one channel?), Step 3 (")
    assert "carry checks that are not of the check set" in message
    assert "Step 1 " not in message  # Import Orders on? is the set's
    assert "“An Article About Import Orders”" in message


def test_an_unknown_set_is_refused(article):
    article.check_set = "no-such-set"

    with pytest.raises(ValidationError) as refused:
        article.full_clean()

    assert "No check set is registered as no-such-set." in refused.value.message_dict["check_set"]
