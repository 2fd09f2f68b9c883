"""The demo account stages each cause of the article once, and the importer agrees."""

import pytest

from apps.commerce.demo import ORDERS, PLUGINS, demo_account_seed
from apps.commerce.models import Notification, Order, SyncRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
# The plugins staged for "An Order Did Not Import" (the account also stages "An Order Imported Twice").
FIRST_ARTICLE_PLUGINS = {spec.name for spec in PLUGINS}


@pytest.fixture
def merchant():
    return demo_account_seed(owner=UserFactory(username="merchant"))


def test_only_the_good_orders_import(merchant):
    good = {o.number for o in ORDERS if o.step is None}

    imported = Order.objects.filter(plugin__name__in=FIRST_ARTICLE_PLUGINS)
    assert set(imported.values_list("number", flat=True)) == good


def test_each_plugin_level_cause_shows_in_its_sync(merchant):
    runs = SyncRun.objects.filter(plugin__name__in=FIRST_ARTICLE_PLUGINS).select_related("plugin")
    outcomes = {run.plugin.name: run.outcome for run in runs}

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
    staged = Order.objects.count()

    again = demo_account_seed(owner=owner)

    assert again.pk != merchant.pk
    assert Order.objects.count() == staged
    assert Order.objects.filter(plugin__name__in=FIRST_ARTICLE_PLUGINS).count() == 2


def test_the_demo_merchant_can_switch_to_a_second_account_where_they_are_staff(client, article):
    from io import StringIO

    from django.core.management import call_command

    from apps.commerce.demo import SECOND_DEMO_MERCHANT
    from apps.commerce.models import Merchant

    call_command("demo_setup", stdout=StringIO())
    assert client.login(username="merchant", password="kitty-merchant")
    first = client.get("/help/order-did-not-import/").content.decode()
    assert "Demo Marketplace – Main store" in first and "Print shop" not in first
    assert "Purrfect Prints" in first  # offered by the switcher

    second = Merchant.objects.get(name=SECOND_DEMO_MERCHANT)
    client.post("/account/switch/", {"account": second.pk, "next": "/help/order-did-not-import/"})

    html = client.get("/help/order-did-not-import/").content.decode()
    assert "Demo Marketplace – Print shop" in html and "Main store" not in html
    started = client.post(
        "/checks/start/",
        {"page": article.pk, "subject": second.plugins.get().pk, "block_id": article.steps[0].id},
        HTTP_HX_REQUEST="true",
    )
    assert "Only an owner of this account can apply “Turn on Import Orders”." in started.content.decode()
