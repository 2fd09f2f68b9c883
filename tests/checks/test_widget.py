"""The widget's HTTP flow: start, poll, fix; with and without JavaScript; and everything that must not happen."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.services import check_runs_execute
from apps.commerce.models import Membership, Plugin
from tests.checks.conftest import plugin_named
from tests.factories import PluginFactory, UserFactory
from tests.html import text

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def step_block(page, number: int) -> str:
    return page.steps[number - 1].id


def start(client, page, plugin, *, step=None, number="", htmx=True, **extra):
    data = {"page": page.pk, "subject": plugin.pk if plugin else "", "order_number": number, **extra}
    if step is None:
        data["all"] = "1"
    else:
        data["block_id"] = step_block(page, step)
    return client.post("/checks/start/", data, **(HTMX if htmx else {}))


def status_of(html: str) -> str:
    """The status of the step an answer is about: the first widget in it that has been checked.

    An answer about one step carries the others out of band, and a fix's answer
    carries every step, checked again; steps never checked stay idle.
    """
    statuses = re.findall(r'data-check-status="([a-z-]+)"', html)
    return next((status for status in statuses if status != "idle"), statuses[0])


def test_signed_out_reader_sees_sign_in_links_not_buttons(client, page):
    html = client.get(page.url).content.decode()

    assert html.count("Sign in to check your account") == 1  # one call to action, not one per step
    assert "Check this now" not in html


def test_signed_in_merchant_sees_a_button_per_step_and_their_plugins(merchant_client, page):
    html = merchant_client.get(page.url).content.decode()

    assert html.count(">Check this now</button>") == 7
    assert html.count('data-check-status="idle"') == 7
    assert "Demo Marketplace – Main store" in html


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
    assert "Only an owner of this account can turn on import orders." in text(html)
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


def test_step_4_shows_an_earlier_unreadable_order_as_history_it_could_not_re_check(merchant_client, page):
    """The importer once could not read #1099; the platform no longer has it, so nothing is re-judged."""
    from apps.commerce import importing
    from apps.commerce.models import Notification

    main = plugin_named("Main store")
    result = importing.order_unreadable("1099", "its placed date is missing.")
    importing.notifications_record(main, [("1099", result)], now=timezone.now())

    response = start(merchant_client, page, main, step=4, number="1099").content.decode()

    html = text(response)
    # A stale note is not a verdict: the step says it couldn't check, and shows the note as history.
    assert status_of(response) == "unknown"
    assert "Order could not be read (noted " in html
    assert "couldn't be re-checked now): Order #1099 could not be read: its placed date is missing." in html
    assert Notification.objects.get(order_number="1099").get_kind_display() == "Order could not be read"


def test_a_step_that_needs_the_order_number_is_refused_before_it_runs(merchant_client, page):
    html = start(merchant_client, page, plugin_named("Main store"), step=6).content.decode()

    assert status_of(html) == "idle"
    assert "Type the missing order's number (as the source platform shows it)." in text(html)
    assert re.search(r'id="check-order-number"[^>]*aria-invalid="true" autofocus', html)
    assert not CheckRun.objects.exists()


def test_step_6_names_the_platform_word_and_a_wrong_number(merchant_client, page):
    main = plugin_named("Main store")

    pending = text(start(merchant_client, page, main, step=6, number="#1006").content.decode())
    missing = text(start(merchant_client, page, main, step=6, number="NOPE-1").content.decode())

    assert "not ready to import yet (“awaiting payment”): it is waiting for the buyer's payment" in pending
    assert "The platform has no order #NOPE-1" in missing


def test_rate_limited_platform_is_couldnt_check_not_failed(merchant_client, page):
    html = start(merchant_client, page, plugin_named("EU store"), step=6, number="4001").content.decode()

    assert status_of(html) == "unknown"
    assert "the platform is throttling the plugin" in text(html)


@pytest.mark.parametrize(
    "number,message",
    [
        ("1001; DROP TABLE", "only letters, digits"),
        ("x" * 65, "at most 64 characters"),
        ("<script>alert(1)</script>", "only letters, digits"),
        ("#", "Type the order number after the #."),
    ],
)
def test_garbage_order_numbers_get_a_clear_inline_message(merchant_client, page, number, message):
    response = start(merchant_client, page, plugin_named("Main store"), step=6, number=number)

    assert response.status_code == 200
    assert message in text(response.content.decode())
    assert not CheckRun.objects.exists()


def test_order_number_is_trimmed_and_hash_ignored(merchant_client, page):
    start(merchant_client, page, plugin_named("Main store"), step=6, number="  #1006 ")

    assert CheckRun.objects.filter(check_key="source_order_state").get().inputs["order_number"] == "1006"


def _platform_plugin(platform: str, name: str) -> Plugin:
    main = plugin_named("Main store")
    return PluginFactory(merchant=main.merchant, platform=platform, name=name, credentials={})


@pytest.mark.parametrize(
    "platform,typed,message",
    [
        ("amazon", "1004", "Amazon order numbers look like 123-1234567-1234567"),
        ("amazon", "902-3159896", "Amazon order numbers look like 123-1234567-1234567"),
        ("etsy", "KT-1001", "Etsy order numbers are digits only, like 2345678901"),
    ],
)
def test_a_number_the_platform_cannot_have_is_refused_in_its_words_before_anything_runs(
    merchant_client, page, platform, typed, message
):
    plugin = _platform_plugin(platform, f"{platform} shop")

    for htmx in (True, False):
        response = start(merchant_client, page, plugin, number=typed, htmx=htmx)
        html = (merchant_client.get(page.url) if not htmx else response).content.decode()

        assert message in text(html)
        assert re.search(r'id="check-order-number"[^>]*aria-invalid="true"', html)
        assert f'value="{typed}"' in html  # what was typed stays, to be corrected
    assert not CheckRun.objects.exists()
    assert not Diagnosis.objects.exists()


def test_an_amazon_order_id_typed_without_dashes_is_checked_as_amazon_writes_it(
    merchant_client, page, tasks_held
):
    plugin = _platform_plugin("amazon", "Amazon EU")

    start(merchant_client, page, plugin, step=6, number="90231598961390916")

    run = CheckRun.objects.get(check_key="source_order_state")
    assert run.inputs["order_number"] == "902-3159896-1390916"
    assert run.diagnosis.reference == "902-3159896-1390916"


def _summary_poll_delay(html: str) -> int:
    return int(re.search(r'id="diagnosis-summary"[^>]*hx-trigger="load delay:(\d+)ms', html, re.S).group(1))


def test_while_its_checks_wait_behind_others_the_summary_looks_again_later(merchant_client, page, tasks_held):
    other = PluginFactory()
    waiting = Diagnosis.objects.create(
        merchant_id=other.merchant_id, page_id=page.pk, subject_id=other.pk, subject_label=other.name
    )
    earlier = timezone.now() - timedelta(seconds=1)
    CheckRun.objects.bulk_create(
        CheckRun(
            diagnosis=waiting,
            merchant_id=other.merchant_id,
            block_id=f"block-{n}",
            check_key="import_orders_on",
            queued_at=earlier,
            deadline=earlier + timedelta(minutes=1),
        )
        for n in range(200)
    )
    main = plugin_named("Main store")

    first = start(merchant_client, page, main, number="1001").content.decode()
    assert "Checking" in text(first)
    assert _summary_poll_delay(first) == 600  # 200 runs ahead, 3 ms each

    CheckRun.objects.filter(diagnosis__subject_id=main.pk).update(status=CheckRun.State.RUNNING)
    poll = re.search(r'id="diagnosis-summary"[^>]*hx-get="([^"]+)"', first, re.S).group(1)
    again = merchant_client.get(unescape(poll), **HTMX).content.decode()
    assert _summary_poll_delay(again) == 100  # its checks started: the next answer is moments away


def test_check_every_step_posts_to_an_address_of_its_own(merchant_client, page, tasks_held):
    article = merchant_client.get(page.url).content.decode()
    data = {"page": page.pk, "subject": plugin_named("Main store").pk, "order_number": "1001"}

    html = merchant_client.post("/checks/start/every-step/", data, **HTMX).content.decode()

    assert re.search(r'id="check-every-step"[^>]*hx-post="/checks/start/every-step/"', article, re.S)
    assert 'id="diagnosis-summary"' in html
    assert CheckRun.objects.count() == 8  # "already here?" and the seven steps, with no all=1


def test_no_plugin_chosen_is_a_clear_message(merchant_client, page):
    html = start(merchant_client, page, None, step=1).content.decode()

    assert "Choose the plugin the order should import through." in text(html)


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


def test_htmx_posts_carry_the_csrf_token(merchant_client, page):
    html = merchant_client.get(page.url).content.decode()

    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"[,}]", html)


def test_starting_too_many_checks_is_refused_kindly(merchant_client, page, settings):
    main = plugin_named("Main store")
    for _ in range(settings.CHECK_STARTS_PER_MINUTE):
        start(merchant_client, page, main, step=1)

    refused = start(merchant_client, page, main, step=1).content.decode()

    assert "You have started a lot of checks in the last minute" in text(refused)


def test_broker_down_says_checks_are_unavailable_and_the_article_still_renders(
    merchant_client, page, monkeypatch
):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("apps.checks.tasks.run_checks.apply_async", broker_down)

    response = start(merchant_client, page, plugin_named("Main store"), step=1)

    assert response.status_code == 200
    assert "Checks are unavailable right now" in text(response.content.decode())
    assert merchant_client.get(page.url).status_code == 200


def test_redis_down_still_serves_the_article_and_says_checks_are_unavailable(
    merchant_client, page, monkeypatch, settings
):
    from kombu.exceptions import OperationalError

    # Nothing listens on port 1: every cache call (page cache, Wagtail's site
    # lookup, the check rate limit) fails to connect, as does the broker.
    settings.CACHES = {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr("apps.checks.tasks.run_checks.apply_async", broker_down)

    anonymous = Client().get(page.url)
    assert anonymous.status_code == 200
    assert "Step 7." in text(anonymous.content.decode())
    assert merchant_client.get(page.url).status_code == 200
    response = start(merchant_client, page, plugin_named("Main store"), step=1)
    assert response.status_code == 200
    assert "Checks are unavailable right now" in text(response.content.decode())


def test_identical_check_in_flight_is_reused(merchant_client, page, tasks_held):
    main = plugin_named("Main store")

    first = start(merchant_client, page, main, step=1, number="1001").content.decode()
    second = start(merchant_client, page, main, step=1, number="1001").content.decode()

    assert status_of(first) == status_of(second) == "running"
    assert CheckRun.objects.filter(check_key="import_orders_enabled").count() == 1


def test_a_teammate_checking_the_same_order_joins_the_running_check(merchant_client, page, tasks_held):
    wholesale = plugin_named("Wholesale")
    staff = UserFactory(username="staffer")
    Membership.objects.create(user=staff, merchant=wholesale.merchant, role=Membership.Role.STAFF)
    teammate = Client()
    teammate.force_login(staff)

    start(merchant_client, page, wholesale, step=2, number="3001")
    joined = start(teammate, page, wholesale, step=2, number="3001").content.decode()

    assert status_of(joined) == "running"  # polling the owner's run, not an idle button
    run = CheckRun.objects.get(check_key="plugin_on_one_channel")
    assert f"/checks/runs/{run.uuid}/" in joined
    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    seen = teammate.get(f"/checks/runs/{run.uuid}/", **HTMX).content.decode()
    assert status_of(seen) == "failed"
    assert "Web store" in text(seen)


def test_a_cleared_placed_date_is_forgotten(merchant_client, page):
    main = plugin_named("Main store")
    start(merchant_client, page, main, step=3, number="1003", placed_date="2020-01-01")

    start(merchant_client, page, main, step=3, number="1003", placed_date="")

    latest = CheckRun.objects.filter(check_key="order_age").latest("queued_at")
    assert latest.inputs["placed_date"] == ""
    assert 'value="2020-01-01"' not in merchant_client.get(page.url).content.decode()


def test_running_widget_polls_fast_then_backs_off(merchant_client, page, tasks_held):
    html = start(merchant_client, page, plugin_named("Main store"), step=1).content.decode()
    run = CheckRun.objects.get(check_key="import_orders_enabled")

    assert f'hx-get="/checks/runs/{run.uuid}/?n=1"' in html
    assert "delay:50ms" in html
    soon = merchant_client.get(f"/checks/runs/{run.uuid}/?n=2", **HTMX).content.decode()
    later = merchant_client.get(f"/checks/runs/{run.uuid}/?n=8", **HTMX).content.decode()
    assert "delay:100ms" in soon  # most checks end within half a second: the first looks are close
    assert "delay:1000ms" in later

    check_runs_execute([run.pk])
    final = merchant_client.get(f"/checks/runs/{run.uuid}/?n=7", **HTMX).content.decode()
    assert status_of(final) == "passed"
    assert "hx-get" not in final.split("<button")[0]  # the final answer stops the polling


def test_the_answer_that_ends_a_check_tells_the_page_so(merchant_client, page, tasks_held):
    # The "Still missing?" section listens for this event to show the ticket form.
    running = start(merchant_client, page, plugin_named("Main store"), step=1, number="1006")
    run = CheckRun.objects.get(check_key="import_orders_enabled")
    assert "HX-Trigger" not in running

    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    final = merchant_client.get(f"/checks/runs/{run.uuid}/?n=1", **HTMX)
    assert "checks-finished" in final["HX-Trigger"]


def test_every_step_summary_tells_the_page_only_when_done(merchant_client, page, tasks_held):
    running = start(merchant_client, page, plugin_named("Main store"), number="1006", all="1")
    assert "HX-Trigger" not in running

    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    diagnosis = CheckRun.objects.first().diagnosis
    done = merchant_client.get(f"/checks/diagnoses/{diagnosis.uuid}/summary/?n=1", **HTMX)
    assert 'data-summary-status="done"' in done.content.decode()
    assert "checks-finished" in done["HX-Trigger"]


def test_abandoned_runs_end_as_couldnt_finish_without_anyone_looking(merchant_client, page, tasks_held):
    from apps.checks.tasks import expire_overdue_runs

    start(merchant_client, page, plugin_named("Main store"), number="1001")  # every step, never run
    CheckRun.objects.update(status="running", deadline=timezone.now() - timedelta(seconds=1))
    fresh = start(merchant_client, page, plugin_named("Outlet"), step=1)
    assert status_of(fresh.content.decode()) == "running"

    expired = expire_overdue_runs()

    assert expired == CheckRun.objects.filter(summary="This check couldn't finish.").count() >= 7
    assert CheckRun.objects.filter(status="unknown").count() == expired
    assert CheckRun.objects.filter(status="queued").count() == 1  # the fresh one is left to run


def test_every_step_polls_carry_only_the_steps_that_ended_since_the_last_look(
    merchant_client, page, tasks_held
):
    first = start(merchant_client, page, plugin_named("Main store"), number="1006").content.decode()
    assert first.count('hx-swap-oob="outerHTML"') >= 7  # every step, each "Checking…"
    since = re.search(r"since=([0-9.]+)", first).group(1)
    diagnosis = CheckRun.objects.first().diagnosis
    url = f"/checks/diagnoses/{diagnosis.uuid}/summary/"

    quiet = merchant_client.get(url, {"n": 1, "since": since}, **HTMX).content.decode()
    assert 'data-check-status="running"' not in quiet  # nothing ended: no step is sent again

    step_1 = CheckRun.objects.get(check_key="import_orders_enabled")
    check_runs_execute([step_1.pk])
    CheckRun.objects.filter(pk=step_1.pk).update(finished_at=timezone.now() + timedelta(seconds=10))
    later = merchant_client.get(url, {"n": 2, "since": since}, **HTMX).content.decode()
    assert later.count('class="check" id="check-') == 1
    assert f'id="check-{step_1.block_id}"' in later


def test_run_left_running_past_its_deadline_shows_couldnt_finish_with_try_again(
    merchant_client, page, tasks_held
):
    # A worker killed mid-check leaves its run "running": nobody will finish it.
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    CheckRun.objects.filter(pk=run.pk).update(
        status="running", deadline=timezone.now() - timedelta(seconds=1)
    )

    html = merchant_client.get(f"/checks/runs/{run.uuid}/?n=3", **HTMX).content.decode()

    assert status_of(html) == "unknown"
    assert "This check couldn't finish." in text(html)
    assert ">Check again</button>" in html


def test_redelivered_or_late_task_never_runs_a_check_twice(merchant_client, page):
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    finished_at = run.finished_at

    assert check_runs_execute([run.pk]) == 0  # redelivery after it ran
    run.refresh_from_db()
    assert run.finished_at == finished_at

    stale = CheckRun.objects.create(
        diagnosis=run.diagnosis,
        merchant_id=run.merchant_id,
        check_key=run.check_key,
        inputs=run.inputs,
        deadline=timezone.now() - timedelta(seconds=1),
    )
    assert check_runs_execute([stale.pk]) == 0  # an expired task delivered late


def test_a_check_delivered_after_its_queue_deadline_ends_at_once(merchant_client, page, tasks_held, settings):
    settings.CHECK_TASK_EXPIRES = 4
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    assert (run.deadline - run.queued_at).total_seconds() == pytest.approx(4)
    CheckRun.objects.filter(pk=run.pk).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )  # a late delivery

    assert check_runs_execute([run.pk]) == 0

    run.refresh_from_db()
    assert (run.status, run.summary) == ("unknown", "This check couldn't finish.")


def test_a_claimed_check_must_end_by_the_hard_limit_in_settings_plus_grace(
    merchant_client, page, tasks_held, settings
):
    settings.CELERY_TASK_TIME_LIMIT = 7
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()

    assert check_runs_execute([run.pk], task_id="t") == 1

    run.refresh_from_db()
    assert run.status == "passed"
    assert (run.deadline - run.started_at).total_seconds() == pytest.approx(7 + 5, abs=0.5)


def test_a_redelivered_task_takes_over_its_own_running_run_but_not_anothers(
    merchant_client, page, tasks_held
):
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    # Claimed by task "t", whose worker then died before finishing it.
    CheckRun.objects.filter(pk=run.pk).update(
        status="running",
        task_id="t",
        started_at=timezone.now(),
        deadline=timezone.now() + timedelta(seconds=35),
    )

    assert check_runs_execute([run.pk], task_id="another") == 0
    assert CheckRun.objects.get(pk=run.pk).status == "running"
    assert check_runs_execute([run.pk], task_id="t") == 1
    assert CheckRun.objects.get(pk=run.pk).status == "passed"
    assert check_runs_execute([run.pk], task_id="t") == 0  # finished runs are never run again


def test_a_teammates_start_does_not_change_a_check_already_queued(merchant_client, page, tasks_held):
    from apps.platforms.models import SandboxStore

    main = plugin_named("Main store")
    # The platform cannot be asked, so Step 3 goes by the date the merchant typed.
    SandboxStore.objects.filter(handle=main.credentials["store"]).update(
        throttled_until=timezone.now() + timedelta(hours=1)
    )
    start(merchant_client, page, main, step=3, number="1003", placed_date="2020-01-02")
    owners = CheckRun.objects.get(check_key="order_age")
    staff = UserFactory(username="staffer")
    Membership.objects.create(user=staff, merchant=main.merchant, role=Membership.Role.STAFF)
    teammate = Client()
    teammate.force_login(staff)
    start(teammate, page, main, step=1, number="1003", placed_date="")  # same order, no date

    check_runs_execute([owners.pk])

    owners.refresh_from_db()
    assert owners.data.get("placed_at_from") == "the date you typed", owners.summary


def test_without_javascript_the_button_posts_and_comes_back_to_the_step(merchant_client, page):
    response = start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{page.url}?checking=step-2#step-2"
    html = merchant_client.get(response.headers["Location"]).content.decode()
    assert 'data-check-status="failed"' in html
    assert "is on 2 channels" in html
    assert 'value="3001"' in html  # the inputs are remembered


def test_without_javascript_errors_come_back_as_a_message(merchant_client, page):
    response = start(
        merchant_client, page, plugin_named("Main store"), step=6, number="bad number!", htmx=False
    )

    assert response.status_code == 302
    html = merchant_client.get(page.url).content.decode()
    assert "An order number has only letters, digits" in html


def test_without_javascript_a_refusal_shows_in_its_step_with_what_was_typed(merchant_client, page):
    start(merchant_client, page, plugin_named("Outlet"), step=6, number="bad number!", htmx=False)

    html = merchant_client.get(page.url).content.decode()

    step_6 = html[html.index('id="step-6"') : html.index('id="step-7"')]
    assert "An order number has only letters, digits" in text(step_6)
    assert 'value="bad number!"' in html  # nothing to type again
    assert re.search(r'id="check-order-number"[^>]*aria-invalid="true"', html)
    assert f'<option value="{plugin_named("Outlet").pk}" selected>' in html
    again = merchant_client.get(page.url).content.decode()
    assert "An order number has only letters, digits" not in again  # said once


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0001-01-01", "too long ago"),
        ("2024-W01-1", "YYYY-MM-DD"),
        ("20240101", "YYYY-MM-DD"),
        ("2024-02-30", "YYYY-MM-DD"),
        ("2999-01-01", "cannot be in the future"),
    ],
)
def test_garbage_placed_dates_get_a_clear_inline_message(merchant_client, page, typed, message):
    html = start(
        merchant_client, page, plugin_named("Main store"), step=3, number="1003", placed_date=typed
    ).content.decode()

    assert message in text(html)
    assert not CheckRun.objects.filter(check_key="order_age").exists()


def test_already_here_banner_shows_above_step_1(merchant_client, page):
    html = start(merchant_client, page, plugin_named("Main store"), number="1001").content.decode()

    assert "Order #1001 is already in Commerce Kitty." in text(html)
    assert 'id="already-here" hx-swap-oob="outerHTML"' in html
    page_html = merchant_client.get(page.url).content.decode()
    assert page_html.index('id="already-here"') < page_html.index('id="step-1"')


def test_page_queries_stay_flat_with_a_diagnosis(merchant_client, page, django_assert_max_num_queries):
    start(merchant_client, page, plugin_named("Main store"), number="1004")

    with django_assert_max_num_queries(30):
        response = merchant_client.get(page.url)

    assert response.content.decode().count('data-check-status="') == 7


def test_without_javascript_check_every_step_shows_the_summary_on_the_page(merchant_client, page):
    response = start(merchant_client, page, plugin_named("Outlet"), number="2001", htmx=False)

    assert response.headers["Location"] == f"{page.url}?checking=check-inputs#check-inputs"
    html = merchant_client.get(response.headers["Location"]).content.decode()
    assert "Most likely cause:" in html and 'href="#step-1"' in html
    assert html.count('data-check-status="idle"') == 0


def nojs_refresh(html: str) -> tuple[int, str] | None:
    """The (delay, address) a browser without JavaScript refreshes the article to, if any."""
    match = re.search(r'<noscript><meta http-equiv="refresh" content="(\d+); url=([^"]+)"></noscript>', html)
    return (int(match.group(1)), match.group(2).replace("&amp;", "&")) if match else None


def test_without_javascript_a_running_check_reloads_the_article_at_a_new_address_until_it_ends(
    merchant_client, page, tasks_held
):
    from apps.checks.services import check_runs_execute

    response = start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)
    running = merchant_client.get(response.headers["Location"]).content.decode()
    again = merchant_client.get(nojs_refresh(running)[1]).content.decode()

    delay, address = nojs_refresh(running)
    # A refresh to the address shown plus a #fragment only scrolls: each one must be a new address.
    assert delay <= 1
    assert address.startswith(f"{page.url}?checking=step-2&") and address.endswith("#step-2")
    assert address != response.headers["Location"] and nojs_refresh(again)[1] != address
    assert 'data-check-status="running"' in again
    assert again.count("<noscript><meta") == 1  # one refresh for the page, not one per step
    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    final = merchant_client.get(nojs_refresh(again)[1]).content.decode()
    assert 'data-check-status="failed"' in final and nojs_refresh(final) is None
    assert not re.search(r'id="check-button-[^"]+"[^>]*disabled', final)


def test_without_javascript_a_fix_comes_back_to_its_step_and_follows_the_check_again(
    merchant_client, page, tasks_held
):
    from apps.checks.services import check_runs_execute

    start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)
    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    run = CheckRun.objects.filter(step_number=2).get()
    fix = run.fixes_offered[0]

    response = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": fix["key"], "choice": str(fix["choices"][0][0])}
    )

    assert response.headers["Location"] == f"{page.url}?checking=step-2#step-2"
    delay, address = nojs_refresh(merchant_client.get(response.headers["Location"]).content.decode())
    assert address.endswith("#step-2") and "checking=step-2&" in address


@pytest.mark.parametrize("page_value", ["", "abc", "999999", "help-index"])
def test_start_for_a_page_that_is_not_an_article_is_a_404(merchant_client, page, page_value):
    if page_value == "help-index":
        page_value = page.get_parent().pk

    response = merchant_client.post(
        "/checks/start/", {"page": page_value, "subject": plugin_named("Main store").pk, "all": "1"}, **HTMX
    )

    assert response.status_code == 404
