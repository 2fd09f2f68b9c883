"""“Tell me when it arrives”: one watch per order, told once when it arrives or when the watch ends."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.checks.models import Diagnosis
from apps.commerce.importing import plugin_sync
from apps.commerce.models import Notification, Order
from apps.follow.emails import unsubscribe_token
from apps.follow.models import OrderWatch
from apps.follow.services import watches_follow
from apps.follow.tasks import send_watch_email
from tests.checks.conftest import plugin_named
from tests.factories import MembershipFactory, fresh_order
from tests.html import text

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a block as its own commit: what waits for it (the follow-up, the e-mail) then runs."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def check_every_step(client, page, plugin, number) -> str:
    return client.post(
        "/checks/start/", {"page": page.pk, "subject": plugin.pk, "order_number": number, "all": "1"}, **HTMX
    ).content.decode()


def watch(client, diagnosis, **extra) -> str:
    return client.post(
        "/notifications/watches/", {"diagnosis": str(diagnosis.uuid)}, **extra
    ).content.decode()


def watching_a_fresh_order(client, page):
    """A fresh #1010 on Main store, checked with every step and watched; returns the plugin."""
    main = plugin_named("Main store")
    fresh_order(main)
    check_every_step(client, page, main, "1010")
    watch(client, Diagnosis.objects.get(reference="1010"), **HTMX)
    return main


def test_after_a_diagnosis_the_merchant_can_watch_the_order_once(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main)

    summary = check_every_step(merchant_client, page, main, "1010")
    assert "Tell me when it arrives" in summary

    diagnosis = Diagnosis.objects.get(reference="1010")
    first = text(watch(merchant_client, diagnosis, **HTMX))
    again = text(watch(merchant_client, diagnosis, **HTMX))

    assert "Watching for order #1010: you will be told here and by e-mail when it arrives" in first
    assert "Someone in your account is already watching for this order." in again
    assert OrderWatch.objects.filter(state="watching").count() == 1
    # The summary re-rendered after any check shows the watch, not the button.
    page_html = text(merchant_client.get(page.url).content.decode())
    assert "Watching for order #1010" in page_html and "Tell me when it arrives" not in page_html


def test_an_order_already_imported_is_not_watched(merchant_client, page):
    main = plugin_named("Main store")
    summary = check_every_step(merchant_client, page, main, "1001")
    diagnosis = Diagnosis.objects.get(reference="1001")
    assert Order.objects.filter(number="1001").exists()

    html = text(watch(merchant_client, diagnosis, **HTMX))

    assert "Tell me when it arrives" not in summary
    assert "Order #1001 is already in Commerce Kitty." in html
    assert not OrderWatch.objects.exists()


def test_a_sync_that_imports_the_order_tells_the_merchant_once(merchant_client, page, committed):
    main = watching_a_fresh_order(merchant_client, page)

    with committed():
        plugin_sync(plugin=main, mode="scheduled")  # the next scheduled sync brings it in
    with committed():
        watches_follow()  # the beat sweep after it finds nothing more to do

    watched = OrderWatch.objects.get()
    assert watched.state == "arrived" and watched.order.number == "1010"
    note = Notification.objects.get(kind="order_arrived")
    assert note.message.startswith("Order #1010 arrived in Commerce Kitty: imported ")
    assert "into the channel" in note.message
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Order #1010 arrived in Commerce Kitty"
    assert message.to == ["merchant@demo.commercekitty.example"]
    assert "Order #1010 arrived in Commerce Kitty" in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and "Order #1010 arrived in Commerce Kitty" in html
    assert re.fullmatch(
        r"<https?://[^>]+/notifications/unsubscribe/[^/]+/>", message.extra_headers["List-Unsubscribe"]
    )
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_same_email_task_delivered_twice_sends_one_email(merchant_client, page, committed):
    main = watching_a_fresh_order(merchant_client, page)
    with committed():
        plugin_sync(plugin=main, mode="manual")
    watched = OrderWatch.objects.get()
    assert len(mail.outbox) == 1

    assert send_watch_email.apply(args=[watched.pk]).get() is False
    assert send_watch_email.apply(args=[watched.pk]).get() is False
    with committed():
        watches_follow()

    assert len(mail.outbox) == 1
    assert Notification.objects.filter(kind="order_arrived").count() == 1


def test_at_the_deadline_it_checks_again_once_and_says_what_stands_in_the_way(
    merchant_client, page, committed
):
    main = plugin_named("Main store")
    order = fresh_order(main)
    check_every_step(merchant_client, page, main, "1010")
    watch(merchant_client, Diagnosis.objects.get(reference="1010"), **HTMX)
    # While it is watched, the buyer's order changes to a SKU the catalog does not have.
    order.lines = [{"sku": "TEAPOT-9", "quantity": 1, "title": "Teapot"}]
    order.save()
    now = timezone.now()
    OrderWatch.objects.update(
        created_at=now - timedelta(hours=24, seconds=1), deadline=now - timedelta(seconds=1)
    )

    with committed():
        assert watches_follow() == 1
    with committed():
        assert watches_follow() == 0

    watched = OrderWatch.objects.get()
    assert watched.state == "still_missing" and watched.recheck.runs.count() == 8
    assert watched.result.startswith(
        "Order #1010 is still not in Commerce Kitty, about 24 hours after you asked to be told.\n"
        "Most likely cause: Step 4."
    )
    note = Notification.objects.get(kind="order_still_missing")
    assert note.evidence["url"] == f"/checks/diagnoses/{watched.recheck.uuid}/open/?to=step-4"
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert mail.outbox[0].subject == "Order #1010 is still not in Commerce Kitty"
    assert "TEAPOT-9" in body
    assert f"/checks/diagnoses/{watched.recheck.uuid}/open/?to=step-4" in body
    assert f"/checks/diagnoses/{watched.recheck.uuid}/open/?to=still-missing" in body

    # The link opens the article on that diagnosis, at the step, with the ticket form prefilled from it.
    response = merchant_client.get(note.evidence["url"])
    assert response.status_code == 302 and response.headers["Location"] == f"{page.url}#step-4"
    article = text(merchant_client.get(page.url).content.decode())
    assert "Most likely cause: Step 4." in article and "TEAPOT-9" in article


def test_a_cancelled_watch_tells_nothing(merchant_client, page, committed):
    main = watching_a_fresh_order(merchant_client, page)
    watched = OrderWatch.objects.get()

    html = text(
        merchant_client.post(f"/notifications/watches/{watched.uuid}/cancel/", **HTMX).content.decode()
    )
    with committed():
        plugin_sync(plugin=main, mode="manual")
    with committed():
        watches_follow()

    assert "Stopped watching for order #1010." in html and "Tell me when it arrives" in html
    assert OrderWatch.objects.get().state == "cancelled"
    assert not Notification.objects.filter(kind="order_arrived").exists()
    assert mail.outbox == []


def test_someone_elses_diagnosis_or_watch_is_a_404(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main)
    check_every_step(merchant_client, page, main, "1010")
    diagnosis = Diagnosis.objects.get(reference="1010")
    watch(merchant_client, diagnosis, **HTMX)
    outsider = Client()
    outsider.force_login(MembershipFactory().user)

    assert outsider.post("/notifications/watches/", {"diagnosis": str(diagnosis.uuid)}).status_code == 404
    watched = OrderWatch.objects.get()
    assert outsider.post(f"/notifications/watches/{watched.uuid}/cancel/").status_code == 404
    assert OrderWatch.objects.get().state == "watching"


def test_emails_can_be_turned_off_and_one_click_unsubscribed(
    merchant_client, page, django_user_model, committed
):
    merchant = django_user_model.objects.get(username="merchant")
    token = unsubscribe_token(merchant)
    anonymous = Client(enforce_csrf_checks=True)

    asks = anonymous.get(f"/notifications/unsubscribe/{token}/")
    one_click = anonymous.post(f"/notifications/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    forged = anonymous.get("/notifications/unsubscribe/not-a-token/")

    assert "Stop e-mails about watched orders?" in text(asks.content.decode())
    assert one_click.status_code == 200 and "no more e-mails about watched orders" in text(
        one_click.content.decode()
    )
    assert forged.status_code == 404
    settings_page = text(merchant_client.get("/notifications/settings/").content.decode())
    assert "E-mail me at merchant@demo.commercekitty.example" in settings_page

    main = watching_a_fresh_order(merchant_client, page)
    with committed():
        plugin_sync(plugin=main, mode="manual")

    assert mail.outbox == []
    assert OrderWatch.objects.get().email_skipped
    assert Notification.objects.filter(kind="order_arrived").exists()  # the inbox still has it

    merchant_client.post("/notifications/settings/", {"watch_emails": "on"})
    assert "checked" in merchant_client.get("/notifications/settings/").content.decode()


# --- Only an order that may still arrive by itself is offered the watch ---------------


def test_an_order_waiting_for_its_payment_is_offered_the_watch(merchant_client, page):
    summary = text(check_every_step(merchant_client, page, plugin_named("Main store"), "1006"))

    assert "it is waiting for the buyer's payment" in summary
    assert "Tell me when it arrives" in summary
    watch(merchant_client, Diagnosis.objects.get(reference="1006"), **HTMX)
    assert OrderWatch.objects.filter(order_number="1006", state="watching").exists()


@pytest.mark.parametrize(
    ("plugin", "number", "said"),
    [
        # The payment failed: it will never arrive.
        ("Main store", "1008", "There is nothing to watch for: order #1008 will not arrive by itself."),
        # No such order on the platform.
        (
            "Main store",
            "9999",
            "There is nothing to watch for: the platform has no order #9999 for this plugin.",
        ),
        # An order of another plugin's store.
        ("Outlet", "1006", "There is nothing to watch for: the platform has no order #1006 for this plugin."),
    ],
)
def test_an_order_that_will_not_arrive_by_itself_is_not_offered_the_watch_and_refused_in_words(
    merchant_client, page, plugin, number, said
):
    summary = text(check_every_step(merchant_client, page, plugin_named(plugin), number))
    diagnosis = Diagnosis.objects.get(reference=number)

    response = merchant_client.post("/notifications/watches/", {"diagnosis": str(diagnosis.uuid)}, **HTMX)

    assert "Tell me when it arrives" not in summary
    assert response.status_code == 200  # htmx swaps only a 2xx: the refusal is read in the watch box
    assert said in text(response.content.decode())
    assert not OrderWatch.objects.exists()


def test_a_never_order_says_what_the_merchant_can_still_do(merchant_client, page):
    summary = text(check_every_step(merchant_client, page, plugin_named("Main store"), "1008"))

    assert "will not import: the buyer's payment failed" in summary
    assert "create it by hand in Commerce Kitty" in summary
    assert "once it is paid" not in summary


def test_an_order_that_needs_the_merchant_first_is_refused_naming_the_step(merchant_client, page):
    main = plugin_named("Main store")
    check_every_step(merchant_client, page, main, "1004")  # a SKU that is not in the catalog
    diagnosis = Diagnosis.objects.get(reference="1004")

    html = text(watch(merchant_client, diagnosis, **HTMX))

    assert "Order #1004 will not arrive by itself until Step 4 is resolved:" in html


def test_watches_are_limited_per_person_and_refused_in_words_while_redis_is_down(
    merchant_client, page, settings
):
    from tests.test_limits import DEAD_REDIS, redis_cache

    main = plugin_named("Main store")
    fresh_order(main)
    check_every_step(merchant_client, page, main, "1010")
    diagnosis = Diagnosis.objects.get(reference="1010")

    settings.ORDER_WATCHES_PER_HOUR = 0
    refused = text(watch(merchant_client, diagnosis, **HTMX))
    assert "You have started 0 watches in the last hour." in refused

    settings.ORDER_WATCHES_PER_HOUR = 20
    settings.CACHES = redis_cache(DEAD_REDIS)
    down = merchant_client.post("/notifications/watches/", {"diagnosis": str(diagnosis.uuid)}, **HTMX)
    assert down.status_code == 200
    assert "We cannot start watching orders for a moment." in text(down.content.decode())
    assert not OrderWatch.objects.exists()
