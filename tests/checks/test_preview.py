"""An article's preview checks the draft's steps on a sandbox account, never on a merchant's."""

import re
import uuid

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.commerce.models import Channel, Membership, Merchant, Notification, Order, Plugin, Product, SyncRun
from apps.platforms.models import SandboxOrder, SandboxStore
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_STEP_TITLE = "Is the plugin connected at all?"


@pytest.fixture
def editor(demo):
    """The demo's support editor, who is also an owner of the demo merchant's real account."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="editor")
    Membership.objects.create(
        user=user, merchant=Merchant.objects.get(name="Whisker & Co."), role=Membership.Role.OWNER
    )
    return user


@pytest.fixture
def draft(demo, editor):
    """A draft with a new first step (its own check), so the live page's steps all move down one."""
    page = demo.get_latest_revision_as_object()
    new_step = {
        "type": "step",
        "id": str(uuid.uuid4()),
        "value": {"title": NEW_STEP_TITLE, "body": "<p>Look at it.</p>", "check": "plugin_authorized"},
    }
    page.body = [new_step, *page.body.raw_data]
    revision = page.save_revision(user=editor)
    return page, revision, new_step["id"]


def preview_of(client, page, revision):
    """Wagtail's preview of the revision (History → Preview), as the signed-in editor sees it."""
    response = client.get(reverse("wagtailadmin_pages:revisions_view", args=[page.pk, revision.pk]))
    assert response.status_code == 200
    return response.content.decode()


def token_in(html: str) -> str:
    return re.search(r'name="preview" value="([^"]+)"', html).group(1)


def plugin_option(html: str, name: str) -> str:
    return re.search(rf'<option value="(\d+)"[^>]*>{re.escape(name)}</option>', html).group(1)


def start(client, token, subject, *, order_number="", block_id=None):
    data = {"preview": token, "subject": subject, "order_number": order_number, "page": ""}
    data.update({"block_id": block_id} if block_id else {"all": "1"})
    return client.post(reverse("checks:start"), data, **HTMX)


def test_preview_shows_the_sandbox_banner_and_the_sandbox_plugins(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    assert "Preview — sandbox data" in html
    assert "Reset sandbox" in html
    sandbox = Merchant.objects.get(preview_editor=editor)
    for plugin in Plugin.objects.filter(merchant=sandbox):
        assert f'<option value="{plugin.pk}"' in html
    for plugin in Plugin.objects.filter(merchant__name="Whisker & Co."):
        assert f'<option value="{plugin.pk}"' not in html
    assert NEW_STEP_TITLE in html
    assert 'id="step-8"' in html  # the draft has eight steps; the live page seven


def test_editor_without_an_account_can_check_in_preview(client, draft):
    page, revision, _ = draft
    outsider_editor = UserFactory(username="new-editor")
    from apps.help.services import support_editors_group_ensure

    outsider_editor.groups.add(support_editors_group_ensure())
    client.force_login(outsider_editor)
    html = preview_of(client, page, revision)
    assert "not part of a Commerce Kitty account" not in html
    response = start(
        client, token_in(html), plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001"
    )
    assert response.status_code == 200
    diagnosis = Diagnosis.objects.get()
    assert diagnosis.preview_session.user == outsider_editor
    assert diagnosis.merchant_id == Merchant.objects.get(preview_editor=outsider_editor).pk


def test_summary_and_steps_are_numbered_as_the_draft_numbers_them(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    response = start(
        client, token_in(html), plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001"
    )
    body = response.content.decode()
    # Import Orders is the live page's Step 1; the draft's new step pushed it to Step 2.
    assert "Most likely cause: Step 2." in body
    assert "of 8 steps passed" in body
    runs = CheckRun.objects.filter(diagnosis__preview_session__isnull=False)
    assert runs.get(check_key="import_orders_enabled").step_number == 2


def test_a_step_only_the_draft_has_can_be_checked(client, draft, editor):
    page, revision, new_block_id = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    response = start(
        client, token_in(html), plugin_option(html, "Demo Marketplace – Gift shop"), block_id=new_block_id
    )
    assert response.status_code == 200
    run = CheckRun.objects.get(block_id=new_block_id)
    assert run.step_number == 1
    assert run.status == "failed"  # the sandbox's Gift shop plugin lost its authorization
    assert 'data-check-status="failed"' in response.content.decode()


def test_the_live_article_still_refuses_a_step_only_the_draft_has(client, draft, editor):
    _, _, new_block_id = draft
    client.force_login(editor)
    plugin = Plugin.objects.get(merchant__name="Whisker & Co.", name__contains="Gift shop")
    response = client.post(
        reverse("checks:start"),
        {"page": draft[0].pk, "block_id": new_block_id, "subject": plugin.pk},
        **HTMX,
    )
    assert response.status_code == 404


def test_a_real_plugin_named_in_a_preview_is_a_404(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    real = Plugin.objects.get(merchant__name="Whisker & Co.", name__contains="Outlet")
    response = start(client, token_in(html), real.pk, order_number="2001")
    assert response.status_code == 404
    assert not Diagnosis.objects.exists()


def test_a_tampered_or_someone_elses_preview_token_is_a_404(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    token = token_in(html)
    outlet = plugin_option(html, "Demo Marketplace – Outlet")
    assert start(client, token[:-2] + "xx", outlet, order_number="2001").status_code == 404
    client.force_login(UserFactory(username="someone", is_superuser=True))
    assert start(client, token, outlet, order_number="2001").status_code == 404


def _real_rows(merchant):
    """Every row of the real account, field by field, and its demo stores' rows."""
    handles = [p.credentials["store"] for p in Plugin.objects.filter(merchant=merchant)]
    models = [
        (Merchant, {"pk": merchant.pk}),
        (Plugin, {"merchant": merchant}),
        (Channel, {"merchant": merchant}),
        (Product, {"merchant": merchant}),
        (Order, {"merchant": merchant}),
        (Notification, {"merchant": merchant}),
        (SyncRun, {"plugin__merchant": merchant}),
        (SandboxStore, {"handle__in": handles}),
        (SandboxOrder, {"store__handle__in": handles}),
    ]
    return {
        model.__name__: sorted(
            (repr(sorted(model_to_dict(row).items())) for row in model.objects.filter(**where)),
        )
        for model, where in models
    }


def test_a_preview_run_never_reads_or_writes_the_real_account(client, draft, editor, settings):
    """The editor owns a real account; previewing, checking and fixing touch none of its rows.

    Writes: every row of the real account is the same afterwards, field by
    field. Reads: no query made while previewing, checking, polling and
    fixing names the real account's merchant, plugins or demo stores.
    """
    settings.CHECK_STARTS_PER_MINUTE = 100
    page, revision, _ = draft
    real = Merchant.objects.get(name="Whisker & Co.")
    real_plugins = list(Plugin.objects.filter(merchant=real))
    real_handles = [p.credentials["store"] for p in real_plugins]
    before = _real_rows(real)
    client.force_login(editor)

    html = preview_of(client, page, revision)  # builds the sandbox
    sandbox_main = SandboxStore.objects.get(handle=f"preview-{editor.pk}-main")
    SandboxOrder.objects.create(  # paid just now: nothing but a sync stands between it and the sandbox
        store=sandbox_main,
        number="1099",
        placed_at=timezone.now(),
        status="paid",
        lines=[{"sku": "MUG-BLUE-001", "quantity": 1, "title": "Blue cat mug"}],
        email="new@example.com",
        first_name="New",
        last_name="Buyer",
        address_line1="1 Catnip Lane",
        city="Portland",
        postcode="97201",
        country="US",
        currency="USD",
        total=24,
    )

    with CaptureQueriesContext(connection) as queries:
        html = preview_of(client, page, revision)
        token = token_in(html)
        outlet = plugin_option(html, "Demo Marketplace – Outlet")
        start(client, token, outlet, order_number="2001")
        run = CheckRun.objects.get(check_key="import_orders_enabled")
        assert run.status == "failed"
        # The owner-only fix, applied by an editor who owns the real account: it changes the sandbox.
        fixed = client.post(reverse("checks:fix", args=[run.uuid]), {"fix": "turn_on_import_orders"}, **HTMX)
        assert fixed.status_code == 200
        main = plugin_option(html, "Demo Marketplace – Main store")
        start(client, token, main, order_number="1099")
        sync = CheckRun.objects.filter(check_key="manual_sync").latest("queued_at")
        client.post(reverse("checks:fix", args=[sync.uuid]), {"fix": "sync_now"}, **HTMX)
        for each in CheckRun.objects.exclude(block_id="already-here"):  # what the steps' widgets poll
            assert client.get(reverse("checks:run", args=[each.uuid]), **HTMX).status_code == 200

    sandbox = Merchant.objects.get(preview_editor=editor)
    assert Plugin.objects.get(merchant=sandbox, name__contains="Outlet").import_orders  # the fix landed there
    assert SyncRun.objects.filter(plugin__merchant=sandbox, mode="manual").exists()
    assert _real_rows(real) == before
    assert not SyncRun.objects.filter(plugin__merchant=real, mode="manual").exists()
    assert CheckRun.objects.exclude(merchant_id=sandbox.pk).count() == 0

    sentinels = [
        (rf'merchant_id"?\s*(=\s*|IN\s*\([^)]*?\b){real.pk}\b', "the real merchant"),
        (rf'"commerce_merchant"\."id"\s*(=\s*|IN\s*\([^)]*?\b){real.pk}\b', "the real merchant"),
        *((f"'{h}'", f"the real store {h}") for h in real_handles),
    ]
    plugin_ids = {p.pk for p in real_plugins}
    for query in queries.captured_queries:
        sql = query["sql"]
        for pattern, what in sentinels:
            assert not re.search(pattern, sql), f"a preview query names {what}: {sql}"
        if "commerce_plugin" in sql:
            named = {int(n) for n in re.findall(r'(?:"commerce_plugin"\."id"|plugin_id"?) = (\d+)', sql)}
            assert not named & plugin_ids, f"a preview query reads a real plugin: {sql}"


def test_preview_runs_are_marked_and_kept_out_of_the_editors_own_account(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    start(client, token_in(html), plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001")
    diagnosis = Diagnosis.objects.get()
    assert diagnosis.preview_session is not None
    assert diagnosis.merchant_id == Merchant.objects.get(preview_editor=editor).pk
    # The live article, where the editor is an owner of Whisker & Co., shows none of it.
    live = client.get(page.url).content.decode()
    assert "Demo Marketplace – Outlet" in live  # the real account's plugin list
    assert 'data-summary-state="idle"' in live
    assert "Most likely cause" not in live
    # Nor can it be opened, watched or put on a ticket from the merchant's side.
    assert client.get(reverse("checks:open", args=[diagnosis.uuid])).status_code == 404


def test_reset_sandbox_stages_every_cause_again(client, draft, editor):
    page, revision, _ = draft
    client.force_login(editor)
    html = preview_of(client, page, revision)
    token = token_in(html)
    start(client, token, plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001")
    run = CheckRun.objects.get(check_key="import_orders_enabled")
    client.post(reverse("checks:fix", args=[run.uuid]), {"fix": "turn_on_import_orders"}, **HTMX)
    sandbox = Merchant.objects.get(preview_editor=editor)
    assert Plugin.objects.get(merchant=sandbox, name__contains="Outlet").import_orders

    response = client.post(reverse("checks:preview_reset"), {"preview": token}, **HTMX)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    rebuilt = Merchant.objects.get(preview_editor=editor)
    assert not Plugin.objects.get(merchant=rebuilt, name__contains="Outlet").import_orders
    assert not Diagnosis.objects.exists()
    assert "Preview — sandbox data" in preview_of(client, page, revision)


def test_the_editors_live_preview_checks_the_unsaved_form(client, demo, editor):
    """Wagtail's preview panel posts the edit form unsaved; its steps are what the checks number."""
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

    page = demo
    steps = [
        ("step", {"title": f"Unsaved step {n}", "body": rich_text("<p>Look.</p>"), "check": key})
        for n, key in enumerate(["source_order_state", "import_orders_enabled"], start=1)
    ]
    form = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "intro": rich_text(page.intro),
            "body": streamfield(steps),
            "comments": inline_formset([]),
        }
    )
    revisions = page.revisions.count()
    client.force_login(editor)
    preview = reverse("wagtailadmin_pages:preview_on_edit", args=[page.pk])
    assert client.post(preview, form).json()["is_valid"]
    html = client.get(preview).content.decode()
    assert "Preview — sandbox data" in html
    assert "Unsaved step 2" in html

    response = start(
        client, token_in(html), plugin_option(html, "Demo Marketplace – Outlet"), order_number="2001"
    )
    assert "Most likely cause: Step 2." in response.content.decode()
    assert "of 2 steps passed" in response.content.decode()
    assert page.revisions.count() == revisions  # the draft was checked without being saved
