"""The notifications bell and inbox: the account's notifications, each linked to the step that explains it."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from apps.commerce.models import Notification
from tests.checks.conftest import plugin_named
from tests.factories import MembershipFactory
from tests.html import text

pytestmark = pytest.mark.django_db


def notify(plugin, kind, message, **fields):
    return Notification.objects.create(
        merchant=plugin.merchant,
        plugin=plugin,
        kind=kind,
        message=message,
        last_seen_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def notes(demo):
    Notification.objects.all().delete()
    main = plugin_named("Main store")
    return [
        notify(main, "missing_product", "Order #1004 has SKU MUG-RED-404 that your catalog does not have."),
        notify(main, "authorization", "The platform does not accept “Main store”'s authorization."),
    ]


def test_the_header_bell_counts_unread_notifications(merchant_client, notes):
    header = merchant_client.get("/help/").content.decode()

    assert 'aria-label="Notifications, 2 unread"' in header
    assert re.search(r'class="bell__count"[^>]*>2</span>', header)


def test_the_inbox_lists_them_newest_first_with_the_step_that_explains_each(merchant_client, notes):
    html = merchant_client.get("/notifications/").content.decode()

    page = text(html)
    assert "2 unread." in page
    assert page.index("does not accept") < page.index("MUG-RED-404")  # newest first
    assert f'href="/notifications/{notes[0].pk}/open/"' in html
    opened = merchant_client.get(f"/notifications/{notes[0].pk}/open/")
    assert opened.headers["Location"] == "/help/order-did-not-import/#step-4"
    opened = merchant_client.get(f"/notifications/{notes[1].pk}/open/")
    assert opened.headers["Location"] == "/help/order-did-not-import/#step-5"
    assert Notification.objects.filter(read=False).count() == 0
    assert "Nothing unread." in text(merchant_client.get("/notifications/").content.decode())
    assert "bell__count" not in merchant_client.get("/help/").content.decode()


def test_marking_read_one_or_all(merchant_client, notes):
    merchant_client.post(f"/notifications/{notes[0].pk}/read/")
    assert list(Notification.objects.filter(read=False)) == [notes[1]]

    response = merchant_client.post("/notifications/read-all/", follow=True)

    assert "Marked 1 notification as read." in text(response.content.decode())
    assert not Notification.objects.filter(read=False).exists()


def test_another_accounts_notifications_are_404_and_never_listed(notes):
    outsider = Client()
    outsider.force_login(MembershipFactory().user)

    assert outsider.get(f"/notifications/{notes[0].pk}/open/").status_code == 404
    assert outsider.post(f"/notifications/{notes[0].pk}/read/").status_code == 404
    assert "MUG-RED-404" not in outsider.get("/notifications/").content.decode()
    assert not Notification.objects.filter(read=True).exists()


def test_signed_out_readers_are_sent_to_sign_in(client, notes):
    response = client.get("/notifications/")

    assert response.status_code == 302 and response.headers["Location"].startswith("/accounts/login/")
    assert "Notifications" not in text(client.get("/help/").content.decode())


def test_the_inbox_and_the_bell_follow_the_chosen_account(merchant_client, notes):
    from apps.commerce.models import Merchant, Plugin

    other = Merchant.objects.get(name="Purrfect Prints")
    theirs = notify(
        Plugin.objects.filter(merchant=other).first(),
        "rate_limit",
        "The platform is throttling “Prints shop”.",
    )

    in_main = merchant_client.get("/notifications/").content.decode()
    assert "throttling" not in in_main and "MUG-RED-404" in in_main
    assert merchant_client.get(f"/notifications/{theirs.pk}/open/").status_code == 404

    merchant_client.post("/account/switch/", {"account": other.pk, "next": "/notifications/"})
    in_other = merchant_client.get("/notifications/").content.decode()

    assert "throttling" in in_other and "MUG-RED-404" not in in_other
    assert 'aria-label="Notifications, 1 unread"' in in_other
    assert merchant_client.get(f"/notifications/{notes[0].pk}/open/").status_code == 404
