"""The demo account stages each cause of the article once, and the importer agrees."""

import pytest

from apps.commerce.demo import ORDERS, demo_account_seed
from apps.commerce.models import Notification, Order, SyncRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    return demo_account_seed(owner=UserFactory(username="merchant"))


def test_only_the_good_orders_import(merchant):
    good = {o.number for o in ORDERS if o.step is None}

    assert set(Order.objects.values_list("number", flat=True)) == good


def test_each_plugin_level_cause_shows_in_its_sync(merchant):
    outcomes = {run.plugin.name: run.outcome for run in SyncRun.objects.select_related("plugin")}

    assert outcomes == {
        "Demo Marketplace – Main store": "succeeded",
        "Demo Marketplace – Wholesale": "blocked",
        "Demo Marketplace – EU store": "rate_limited",
        "Demo Marketplace – Gift shop": "not_authorized",
    }


def test_bell_shows_the_errors_step_4_and_5_talk_about(merchant):
    kinds = set(Notification.objects.values_list("order_number", "kind"))

    assert kinds == {
        ("1004", "missing_product"),
        ("1005", "missing_customer_fields"),
        ("", "channel_conflict"),
        ("", "rate_limit"),
        ("", "authorization"),
    }


def test_seeding_again_rebuilds_the_account(merchant):
    owner = merchant.memberships.get().user

    again = demo_account_seed(owner=owner)

    assert again.pk != merchant.pk
    assert Order.objects.count() == 2
