"""A notification whose cause is over says so in the inbox, and the bell stops counting it."""

import pytest
from django.utils import timezone

from apps.commerce.importing import notifications_record, notifications_resolve, rule_exactly_one_channel
from apps.commerce.importing.sync import plugin_sync
from apps.commerce.models import Notification
from tests.checks.conftest import plugin_named
from tests.html import text

pytestmark = pytest.mark.django_db


def test_a_resolved_notification_reads_resolved_and_leaves_the_bell(merchant_client, demo):
    wholesale = plugin_named("Wholesale")
    note = Notification.objects.get(plugin=wholesale, kind=Notification.Kind.CHANNEL_CONFLICT)
    before = merchant_client.get("/notifications/").content.decode()
    assert "Mark as read" in before

    notifications_resolve(
        wholesale,
        [note.kind],
        how="“Wholesale” is now only on Web store.",
        order_number="",
        now=timezone.now(),
    )

    html = merchant_client.get("/notifications/").content.decode()
    item = html[html.index('data-kind="channel_conflict"') :].split("</li>")[0]
    assert 'data-state="resolved"' in item
    assert "Resolved" in text(item) and "is now only on Web store." in text(item)
    assert "See the step that explains it" not in item and "Mark as read" not in item
    unread = Notification.objects.filter(merchant=wholesale.merchant, read=False, resolved_at=None).count()
    assert f"Notifications, {unread} unread" in merchant_client.get("/help/").content.decode()


def test_the_same_problem_after_it_was_resolved_is_a_new_notification(demo):
    wholesale = plugin_named("Wholesale")
    note = Notification.objects.get(plugin=wholesale, kind=Notification.Kind.CHANNEL_CONFLICT)
    now = timezone.now()
    notifications_resolve(wholesale, [note.kind], how="fixed", order_number="", now=now)

    notifications_record(wholesale, [("", rule_exactly_one_channel(wholesale))], now=now)

    note.refresh_from_db()
    assert note.occurrences == 1 and note.resolved_at is not None
    assert Notification.objects.filter(plugin=wholesale, kind=note.kind, resolved_at=None).count() == 1


def test_a_sync_that_gets_through_resolves_what_the_plugin_rules_had_said(demo):
    wholesale = plugin_named("Wholesale")
    wholesale.channels.set([wholesale.channels.get(code="wholesale")])

    plugin_sync(plugin=wholesale, mode="manual")

    note = Notification.objects.get(plugin=wholesale, kind=Notification.Kind.CHANNEL_CONFLICT)
    assert note.resolved_at is not None and note.resolution == "A sync has gone through since."
