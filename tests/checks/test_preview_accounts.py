"""A preview beside the help center's accounts, watches, incidents and insights.

A preview's diagnosis is its editor's alone: no account lookup finds it, it
offers no watch, its runs record no page revision, and neither insights nor
incidents count it. The preview shows none of the editor's own accounts.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.viewers import (
    diagnosis_for_account,
    diagnosis_for_viewer,
    diagnosis_merchant_id,
    run_for_viewer,
)
from apps.commerce.models import Membership, Merchant
from apps.incidents.models import Incident
from apps.incidents.services import counted_runs
from apps.insights.services import counted_diagnoses
from tests.checks.test_preview import HTMX, draft, editor, plugin_option, preview_of, start, token_in  # noqa: F401
from tests.factories import UserFactory


@pytest.fixture
def previewed(client, draft, editor):  # noqa: F811
    """The editor has checked order 2001 on the Outlet plugin in the draft's preview."""
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    response = start(
        client, token_in(html), plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001"
    )
    assert response.status_code == 200
    return SimpleNamespace(
        page=page,
        revision=revision,
        html=html,
        response=response.content.decode(),
        diagnosis=Diagnosis.objects.get(),
    )


def test_no_account_lookup_finds_a_preview_diagnosis(previewed, editor):  # noqa: F811
    diagnosis = previewed.diagnosis
    run = diagnosis.runs.first()
    # Even an account that names the sandbox itself (nobody is a member of it) finds nothing.
    sandbox = SimpleNamespace(merchant_id=diagnosis.merchant_id, is_owner=True)
    assert diagnosis_for_account(sandbox, diagnosis.uuid) is None
    assert run_for_viewer(None, sandbox, run.uuid) is None
    assert diagnosis_merchant_id(diagnosis.uuid) is None  # no "switch to that account?" for a preview
    # Its own editor finds it; another editor and a merchant do not.
    assert diagnosis_for_viewer(editor, None, diagnosis.uuid) == diagnosis
    assert run_for_viewer(editor, None, run.uuid) == run
    other_editor = UserFactory(is_superuser=True)
    assert diagnosis_for_viewer(other_editor, None, diagnosis.uuid) is None
    assert run_for_viewer(other_editor, None, run.uuid) is None
    merchant = UserFactory()
    assert diagnosis_for_viewer(merchant, None, diagnosis.uuid) is None


def test_another_editor_cannot_poll_or_fix_a_preview_run(client, previewed):
    run = CheckRun.objects.get(check_key="import_orders_enabled")
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse("checks:run", args=[run.uuid]), **HTMX).status_code == 404
    fix = client.post(reverse("checks:fix", args=[run.uuid]), {"fix": "turn_on_import_orders"}, **HTMX)
    assert fix.status_code == 404
    assert client.get(reverse("checks:summary", args=[run.diagnosis.uuid]), **HTMX).status_code == 404


def test_a_preview_shows_no_account_switcher_bell_or_watch_box(client, previewed, editor):  # noqa: F811
    # The editor works in two accounts: the live article offers to switch between them.
    Membership.objects.create(
        user=editor, merchant=Merchant.objects.get(name="Purrfect Prints"), role=Membership.Role.STAFF
    )
    live = client.get(previewed.page.url).content.decode()
    assert "data-account-switcher" in live

    html = preview_of(client, previewed.page, previewed.revision)
    assert "data-account-switcher" not in html
    assert 'class="bell"' not in html
    # Order 2001 is not in the sandbox: a merchant's summary would offer to watch for it.
    assert "Most likely cause" in previewed.response
    assert "Tell me when it arrives" not in previewed.response
    summary = client.get(reverse("checks:summary", args=[previewed.diagnosis.uuid]), **HTMX)
    assert "Tell me when it arrives" not in summary.content.decode()
    assert "Tell me when it arrives" not in html


def test_a_preview_shows_no_incident_notes(client, previewed):
    wording = "The demo marketplace is not answering; we are on it."
    Incident.objects.create(
        check_key="import_orders_enabled",
        platform="sandbox",
        state=Incident.State.CONFIRMED,
        confirmed_at=timezone.now(),
        wording=wording,
        window_minutes=30,
        share=0.8,
        runs=12,
        merchants=5,
        failing_merchants=4,
    )
    assert wording not in preview_of(client, previewed.page, previewed.revision)


def test_preview_runs_record_no_page_revision(previewed):
    # The draft is checked, not the revision readers see: insights compare outcomes by the latter.
    assert previewed.diagnosis.page_id == previewed.page.pk
    assert previewed.page.live_revision_id is not None
    assert list(previewed.diagnosis.runs.values_list("page_revision_id", flat=True).distinct()) == [None]


def test_insights_and_incidents_leave_preview_checks_out(previewed):
    assert previewed.diagnosis.runs.filter(task_seconds__isnull=False).exists()
    assert not counted_diagnoses().filter(pk=previewed.diagnosis.pk).exists()
    assert (
        not counted_runs(timezone.now() - timedelta(hours=1)).filter(diagnosis=previewed.diagnosis).exists()
    )
