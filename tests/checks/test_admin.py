"""Agents read check runs in Django admin; nobody edits them."""

import pytest
from wagtail.models import Page

from apps.checks.models import CheckRun, Diagnosis
from tests.checks.conftest import plugin_named
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, merchant_client):
    page = Page.objects.get(slug="order-did-not-import")
    merchant_client.post(
        "/checks/start/",
        {"page": page.pk, "subject": plugin_named("Outlet").pk, "order_number": "2001", "all": "1"},
        HTTP_HX_REQUEST="true",
    )
    client.force_login(UserFactory(username="agent", is_staff=True, is_superuser=True))
    return client


def test_runs_are_listed_filtered_and_searchable(admin_client):
    listing = admin_client.get("/django-admin/checks/checkrun/?status__exact=failed&q=2001").content.decode()

    assert "Import Orders is off on “Demo Marketplace – Outlet”" in listing


def test_a_run_shows_its_evidence_and_cannot_be_changed(admin_client):
    run = CheckRun.objects.get(check_key="plugin_on_one_channel")

    page = admin_client.get(f"/django-admin/checks/checkrun/{run.pk}/change/").content.decode()

    assert "is on one channel" in page
    assert 'name="_save"' not in page
    assert admin_client.post(f"/django-admin/checks/checkrun/{run.pk}/delete/").status_code == 403
    assert admin_client.get("/django-admin/checks/checkrun/add/").status_code == 403


def test_a_diagnosis_lists_its_runs(admin_client):
    diagnosis = Diagnosis.objects.get()

    page = admin_client.get(f"/django-admin/checks/diagnosis/{diagnosis.pk}/change/").content.decode()

    assert "Import Orders on?" in page
    assert "Paid and confirmed on the platform?" in page


def page_text(html: str) -> str:
    """What an agent reads: the page's text without its scripts, styles and tags."""
    import html as html_lib
    import re

    html = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", "", html)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def before_developers(text: str) -> str:
    return text.split("For developers")[0]


def test_a_run_reads_in_words_without_json_or_ids(admin_client):
    run = CheckRun.objects.get(check_key="import_orders_enabled")

    html = admin_client.get(f"/django-admin/checks/checkrun/{run.pk}/change/").content.decode()
    text = page_text(html)

    assert "Step 1" in text
    assert "Import Orders on?" in text  # the check's title
    assert "failed" in text
    assert "Import Orders is off on “Demo Marketplace – Outlet”" in text
    assert "Plugin: Demo Marketplace – Outlet" in text and "Order number: 2001" in text
    assert "Turn on Import Orders" in text  # the fix offered, by its label
    assert "Demo Marketplace – Outlet, order #2001" in text  # the diagnosis, linked by its words
    assert '{"' not in text and "[{" not in text
    shown = before_developers(text)
    for raw in (str(run.uuid), run.block_id, run.task_id, "import_orders_enabled", "subject_id"):
        assert raw and raw not in shown
    assert (
        "<details" in html.split("For developers")[0][-400:]
    )  # the ids a developer may need are folded away


def test_a_diagnosis_reads_its_runs_in_words(admin_client):
    diagnosis = Diagnosis.objects.get()

    html = admin_client.get(f"/django-admin/checks/diagnosis/{diagnosis.pk}/change/").content.decode()
    text = page_text(html)

    assert "Most likely cause: Step 1." in text
    assert "Step 3 (Placed after Import Orders was turned on?) failed" in text
    assert "Is the order already in Commerce Kitty? failed" in text
    assert "The merchant's article" in text
    assert '{"' not in text and "[{" not in text
    for raw in ("import_orders_enabled", "order_age", str(diagnosis.uuid), "Plugin id", "Merchant id"):
        assert raw not in text


def test_the_runs_list_names_checks_by_title(admin_client):
    text = page_text(admin_client.get("/django-admin/checks/checkrun/").content.decode())

    assert "Placed after Import Orders was turned on?" in text
    assert "Couldn't check" in text or "failed" in text


def test_every_model_is_named_in_good_english_plural(client, db):
    """Django adds an "s": "order watchs", "diagnosiss". Every model in the admin says its plural right."""
    from django.contrib import admin as django_admin

    wrong = []
    for model in django_admin.site._registry:
        singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
        if singular.endswith(("s", "x", "z", "ch", "sh")) and plural == singular + "s":
            wrong.append(plural)
        if singular[-1:] == "y" and singular[-2:-1] not in "aeiou" and plural == singular + "s":
            wrong.append(plural)
    assert wrong == []
    client.force_login(UserFactory(username="site-admin", is_staff=True, is_superuser=True))
    index = page_text(client.get("/django-admin/").content.decode())
    assert "Order watches" in index
    assert "Order watchs" not in index
