"""Fixes from the widget: applied once, only by whoever may, and followed by the step checked again."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.commerce.models import Membership
from tests.checks.conftest import HTMX, plugin_named, start, status_of
from tests.factories import UserFactory
from tests.html import text

pytestmark = pytest.mark.django_db


def test_step_1_fails_for_import_orders_off_and_the_fix_turns_it_green(merchant_client, page):
    outlet = plugin_named("Outlet")

    html = start(merchant_client, page, outlet, step=1, number="2001").content.decode()

    assert status_of(html) == "failed"  # eager mode: the task already ran
    assert "Import Orders is off on “Demo Marketplace – Outlet”" in text(html)
    run = CheckRun.objects.filter(check_key="import_orders_enabled").latest("queued_at")
    fixed = merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "turn_on_import_orders"}, **HTMX)

    fixed_html = fixed.content.decode()
    assert status_of(fixed_html) == "passed"
    assert "Fix applied: Turned on Import Orders" in text(fixed_html)
    outlet.refresh_from_db()
    assert outlet.import_orders and outlet.import_orders_enabled_at is not None
    # Applying it again changes nothing more.
    again = merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "turn_on_import_orders"}, **HTMX)
    assert "already on" in text(again.content.decode())


def test_staff_member_cannot_apply_an_owner_only_fix(client, page):
    outlet = plugin_named("Outlet")
    staff = UserFactory(username="staffer")
    Membership.objects.create(user=staff, merchant=outlet.merchant, role=Membership.Role.STAFF)
    client.force_login(staff)
    html = start(client, page, outlet, step=1).content.decode()
    assert "Only an owner of this account can apply “Turn on Import Orders”." in text(html)
    run = CheckRun.objects.latest("queued_at")

    refused = client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "turn_on_import_orders"}, **HTMX)

    assert "Only an owner of this account can apply this fix" in text(refused.content.decode())
    outlet.refresh_from_db()
    assert not outlet.import_orders


def test_keep_only_one_channel_fix_needs_one_of_the_plugins_channels(merchant_client, page):
    wholesale = plugin_named("Wholesale")
    html = start(merchant_client, page, wholesale, step=2, number="3001").content.decode()
    assert "is on 2 channels (Web store, Wholesale portal)" in text(html)
    run = CheckRun.objects.filter(check_key="plugin_on_one_channel").latest("queued_at")

    bad = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_only_channel", "choice": "999999"}, **HTMX
    )
    assert "Choose one of the options first." in text(bad.content.decode())

    keep = wholesale.channels.get(code="wholesale")
    good = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_only_channel", "choice": keep.pk}, **HTMX
    )
    assert status_of(good.content.decode()) == "passed"
    assert list(wholesale.channels.values_list("code", flat=True)) == ["wholesale"]


def test_a_fix_from_an_older_result_changes_nothing_and_shows_the_fresh_result(merchant_client, page):
    # A double click, or a second tab: the result the fix came from was fixed since.
    wholesale = plugin_named("Wholesale")
    start(merchant_client, page, wholesale, step=2, number="3001")
    old = CheckRun.objects.filter(check_key="plugin_on_one_channel").latest("queued_at")
    keep = wholesale.channels.get(code="wholesale")
    other = wholesale.channels.exclude(pk=keep.pk).get()
    fix_url = f"/checks/runs/{old.uuid}/fix/"
    merchant_client.post(fix_url, {"fix": "keep_only_channel", "choice": keep.pk}, **HTMX)

    again = merchant_client.post(fix_url, {"fix": "keep_only_channel", "choice": other.pk}, **HTMX)

    html = again.content.decode()
    assert "The fix was not applied: That channel is not one of this plugin's channels any more." in text(
        html
    )
    assert status_of(html) == "passed"
    assert list(wholesale.channels.values_list("code", flat=True)) == ["wholesale"]


def test_step_7_sync_now_imports_the_order_and_turns_green(merchant_client, page):
    main = plugin_named("Main store")
    from apps.platforms.models import SandboxOrder

    SandboxOrder.objects.create(
        store=SandboxOrder.objects.get(number="1001").store,
        number="1099",
        placed_at=timezone.now() - timedelta(hours=1),
        lines=[{"sku": "MUG-BLUE-001", "quantity": 1}],
        email="late@example.com",
        first_name="Late",
    )
    html = start(merchant_client, page, main, step=7, number="1099").content.decode()
    assert status_of(html) == "failed"
    run = CheckRun.objects.filter(check_key="manual_sync").latest("queued_at")

    synced = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "sync_now"}, **HTMX
    ).content.decode()

    assert status_of(synced) == "passed"
    assert "Order #1099 is already in Commerce Kitty." in text(synced)


def test_step_3_backfill_fix_imports_the_old_order(merchant_client, page):
    main = plugin_named("Main store")
    html = start(merchant_client, page, main, step=3, number="1003").content.decode()
    assert "before Import Orders was turned on" in text(html)
    run = CheckRun.objects.filter(check_key="order_age").latest("queued_at")

    fixed = merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "sync_historical_orders"}, **HTMX)

    assert status_of(fixed.content.decode()) == "passed"
    assert main.orders.filter(number="1003").exists()


def test_a_long_backfill_imports_the_order_now_and_the_rest_in_the_background(
    merchant_client, page, monkeypatch
):
    from apps.commerce.models import SyncRun
    from apps.platforms.models import SandboxOrder

    main = plugin_named("Main store")
    first = SandboxOrder.objects.get(store__handle=main.credentials["store"], number="1003")
    for n in range(3):  # more history after the order than one click may wait for
        SandboxOrder.objects.create(
            store=first.store,
            number=f"10030{n}",
            placed_at=first.placed_at + timedelta(hours=2 + n),
            status=first.status,
            email=first.email,
            first_name=first.first_name,
            last_name=first.last_name,
            address_line1=first.address_line1,
            city=first.city,
            postcode=first.postcode,
            country=first.country,
            lines=first.lines,
        )
    monkeypatch.setattr("apps.commerce.diagnostics.checks.BACKFILL_INLINE_SECONDS", 0)
    start(merchant_client, page, main, step=3, number="1003")
    run = CheckRun.objects.filter(check_key="order_age").latest("queued_at")

    fixed = merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "sync_historical_orders"}, **HTMX)

    html = text(fixed.content.decode())
    assert status_of(fixed.content.decode()) == "passed"
    assert "continue in the background" in html
    assert SyncRun.objects.filter(mode="backfill", resume_from__isnull=False).count() == 1
    # The background sync (eager here) carried on from where the click stopped.
    assert set(main.orders.filter(number__startswith="1003").values_list("number", flat=True)) == {
        "1003",
        "100300",
        "100301",
        "100302",
    }


def test_step_5_offers_reauthorize_and_the_demo_consent_restores_access(merchant_client, page):
    gifts = plugin_named("Gift shop")
    html = start(merchant_client, page, gifts, step=5, number="5001").content.decode()
    assert status_of(html) == "failed"
    link = re.search(r'href="(/account/plugins/\d+/reauthorize/\?next=[^"]+)"', html).group(1)

    to_consent = merchant_client.get(unescape(link))
    consent_url = to_consent.headers["Location"]
    assert "/demo-authorize/" in consent_url
    consent = merchant_client.get(consent_url)
    assert "Allow Commerce Kitty to read your orders?" in consent.content.decode()
    back = merchant_client.post(consent_url, {"allow": "1", "next": page.url + "#step-5"})
    assert back.headers["Location"] == page.url + "#step-5"

    # Back on the article, Step 5 was checked again and says what happened, where the merchant lands.
    landed = merchant_client.get(page.url).content.decode()
    step_5 = landed[landed.index('id="step-5"') : landed.index('id="step-6"')]
    assert 'data-check-status="passed"' in step_5
    assert "Fix applied: “Demo Marketplace – Gift shop” is authorized again." in unescape(step_5)
    assert 'class="messages"' not in landed

    again = start(merchant_client, page, gifts, step=5, number="5001").content.decode()
    assert status_of(again) == "passed"
