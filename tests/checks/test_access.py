"""Who may start and see a check: signed in, with a CSRF token, on their own account only."""

import pytest
from django.test import Client

from apps.checks.models import CheckRun
from apps.commerce.models import Membership, Plugin
from tests.checks.conftest import HTMX, plugin_named, start
from tests.factories import PluginFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_cannot_start_checks(client, page):
    response = client.post("/checks/start/", {"page": page.pk, "all": "1"})

    assert response.status_code == 302
    assert "/accounts/login/" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(page):
    client = Client(enforce_csrf_checks=True)
    client.login(username="merchant", password="kitty-merchant")

    response = start(client, page, plugin_named("Main store"), step=1)

    assert response.status_code == 403
    assert not CheckRun.objects.exists()


def test_someone_elses_plugin_run_and_diagnosis_are_404(merchant_client, page, client):
    stranger_plugin = PluginFactory()
    assert start(merchant_client, page, stranger_plugin, step=1).status_code == 404
    assert start(merchant_client, page, Plugin(pk=10**9), step=1).status_code == 404

    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    # The villain owns another account: signed in, but not in ours.
    villain = UserFactory(username="outsider")
    Membership.objects.create(user=villain, merchant=stranger_plugin.merchant, role=Membership.Role.OWNER)
    outsider = Client()
    outsider.force_login(villain)

    assert outsider.get(f"/checks/runs/{run.uuid}/", **HTMX).status_code == 404
    assert outsider.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "x"}, **HTMX).status_code == 404
    assert outsider.get(f"/checks/diagnoses/{run.diagnosis.uuid}/summary/", **HTMX).status_code == 404
    assert outsider.get("/checks/runs/not-a-uuid/", **HTMX).status_code == 404
