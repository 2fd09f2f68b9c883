"""In Django admin, agents read which token made which call; tokens show everything but their secret."""

import pytest
from django.test import Client
from django.utils import timezone

from apps.api.models import ApiToken
from apps.api.tokens import api_call_record, token_authenticate, token_create
from apps.checks.models import CheckRun, Diagnosis
from apps.support.services import support_agents_group_ensure
from tests.factories import UserFactory, order_inputs
from tests.html import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(owner, shop):
    """A diagnosis started through the API with a token: one call, with the run it started."""
    token, raw = token_create(user=owner, merchant_id=shop.pk, name="Support bot", scopes=["diagnose"])
    diagnosis = Diagnosis.objects.create(
        merchant_id=shop.pk, subject_id=1, subject_label="Main store", user=owner, **order_inputs("1004")
    )
    run = CheckRun.objects.create(
        diagnosis=diagnosis,
        merchant_id=shop.pk,
        check_key="import_orders_enabled",
        status="passed",
        summary="On.",
        deadline=timezone.now(),
    )
    return api_call_record(
        token_authenticate(raw), door="api", action="diagnosis.start", diagnosis=diagnosis, runs=[run],
        outcome="Started every step for order #1004.",
    )  # fmt: skip


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def agent_client(db):
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(support_agents_group_ensure())
    client = Client()
    client.force_login(agent)
    return client


def test_tokens_are_listed_with_their_account_and_never_their_hash(admin_client, call):
    token = call.token

    html = admin_client.get("/django-admin/api/apitoken/").content.decode()
    page = text(html)

    assert "Support bot" in page and f"kt_{token.prefix}…" in page and "Whisker Test Co." in page
    assert "read, diagnose" in page and "Active" in page
    assert token.secret_hash not in html
    detail = admin_client.get(f"/django-admin/api/apitoken/{token.pk}/change/").content.decode()
    assert token.secret_hash not in detail and "secret" not in text(detail).lower()
    assert "Run checks and diagnoses, and watch orders" in text(detail)
    assert f"/django-admin/api/apicall/?token__id__exact={token.pk}" in detail and "1 call" in text(detail)
    assert 'name="_save"' not in detail


def test_an_admin_revokes_tokens_from_the_list(admin_client, call):
    token = call.token

    response = admin_client.post(
        "/django-admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked 1 token" in text(response.content.decode())
    assert "Revoked" in text(admin_client.get("/django-admin/api/apitoken/?state=revoked").content.decode())


def test_a_call_shows_its_token_its_diagnosis_and_its_runs(admin_client, call):
    listing = text(
        admin_client.get(
            "/django-admin/api/apicall/?door__exact=api&action__exact=diagnosis.start"
        ).content.decode()
    )
    assert "diagnosis.start" in listing and "Support bot" in listing and "owner" in listing

    html = admin_client.get(f"/django-admin/api/apicall/{call.pk}/change/").content.decode()

    assert f"/django-admin/checks/diagnosis/{call.diagnosis_id}/change/" in html
    run = CheckRun.objects.get()
    assert f"/django-admin/checks/checkrun/{run.pk}/change/" in html
    assert "Import Orders on?" in text(html) and "Started every step for order #1004." in text(html)
    assert f"/django-admin/api/apitoken/{call.token_id}/change/" in html
    assert call.token.secret_hash not in html


def test_calls_are_filtered_by_token(admin_client, call, owner, shop):
    other, raw = token_create(user=owner, merchant_id=shop.pk, name="Nightly script", scopes=["fix"])
    api_call_record(
        token_authenticate(raw), door="mcp", action="fix.apply", outcome="Import Orders turned on."
    )

    only_bot = text(
        admin_client.get(f"/django-admin/api/apicall/?token__id__exact={call.token_id}").content.decode()
    )

    assert "Started every step for order #1004." in only_bot and "Import Orders turned on." not in only_bot


def test_an_agent_reads_tokens_and_calls_but_changes_nothing(agent_client, call):
    token = call.token

    assert agent_client.get("/django-admin/api/apicall/").status_code == 200
    assert agent_client.get(f"/django-admin/api/apicall/{call.pk}/change/").status_code == 200
    assert agent_client.get(f"/django-admin/api/apitoken/{token.pk}/change/").status_code == 200
    assert agent_client.get("/django-admin/api/apitoken/add/").status_code == 403
    listing = agent_client.get("/django-admin/api/apitoken/").content.decode()
    assert 'value="revoke"' not in listing  # the action is an admin's
    agent_client.post("/django-admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert agent_client.post(f"/django-admin/api/apitoken/{token.pk}/delete/").status_code == 403
    assert ApiToken.objects.get().revoked_at is None
