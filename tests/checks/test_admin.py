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

    assert page.count("import_orders_enabled") >= 1
    assert "source_order_state" in page
