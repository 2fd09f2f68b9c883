"""The demo marketplace behaves like a remote platform, driven by rows an admin edits."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.platforms import registry
from apps.platforms.base import Capabilities, NotAuthorized, OrderState, RateLimited, UnreadableOrder
from apps.platforms.models import STATUSES, SandboxOrder, SandboxOrderStatus, SandboxStore, validate_lines
from apps.platforms.sandbox import PAGE_SIZE, SandboxClient
from tests.platforms.status_words import assert_step_six_follows, every_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore.objects.create(handle="kitty-demo", name="Kitty Demo", access_token="tok_demo_1")


@pytest.fixture
def client(store, make_connection) -> SandboxClient:
    return SandboxClient(make_connection({"store": store.handle, "access_token": store.access_token}))


def add_order(store: SandboxStore, number: str = "1001", **fields) -> SandboxOrder:
    defaults = {
        "placed_at": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        "status": SandboxOrderStatus.PAID,
        "lines": [{"sku": "MUG-BLUE-001", "quantity": 2, "title": "Blue mug"}],
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_line1": "1 Analytical Row",
        "city": "London",
        "postcode": "N1 1AA",
        "country": "GB",
        "currency": "GBP",
        "total": Decimal("24.90"),
    }
    return SandboxOrder.objects.create(store=store, number=number, **{**defaults, **fields})


@pytest.mark.parametrize(
    ("status", "state", "platform_status"),
    [
        (SandboxOrderStatus.PAID, OrderState.IMPORTABLE, "paid"),
        (SandboxOrderStatus.PENDING_PAYMENT, OrderState.PENDING_PAYMENT, "awaiting payment"),
        (SandboxOrderStatus.ON_HOLD, OrderState.ON_HOLD, "held for review"),
        (SandboxOrderStatus.CANCELLED, OrderState.CANCELLED, "cancelled"),
        (SandboxOrderStatus.REFUNDED, OrderState.REFUNDED, "refunded"),
        (SandboxOrderStatus.FAILED, OrderState.FAILED, "payment failed"),
        (SandboxOrderStatus.CHECKOUT, OrderState.CHECKOUT, "in checkout"),
    ],
)
def test_each_demo_status_maps_to_one_state(client, store, status, state, platform_status):
    add_order(store, status=status)

    order = client.get_order("1001")

    assert order.state == state
    assert order.platform_status == platform_status


def test_get_order_returns_the_whole_order(client, store):
    saved = add_order(store, number="#1001")  # admins type the '#' too

    order = client.get_order("#1001")

    assert saved.number == "1001"
    assert order.id == str(saved.pk)
    assert order.number == "1001"
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert order.buyer.email == "ada@example.com"
    assert (order.buyer.city, order.buyer.postcode, order.buyer.country) == (
        "London",
        "N1 1AA",
        "GB",
    )
    assert (order.currency, order.total) == ("GBP", Decimal("24.90"))


def test_get_order_not_found_is_none(client, store):
    add_order(store, number="1001")
    other = SandboxStore.objects.create(handle="other", name="Other")
    add_order(other, number="2002")

    assert client.get_order("2002") is None  # another store's order is not ours


def test_rejected_credentials_are_not_authorized(client, store):
    store.reject_credentials = True
    store.save()

    with pytest.raises(NotAuthorized, match="refused"):
        client.check_authorization()


def test_wrong_token_is_not_authorized_and_not_echoed(store, make_connection):
    client = SandboxClient(make_connection({"store": store.handle, "access_token": "tok_stale"}))

    with pytest.raises(NotAuthorized) as caught:
        client.get_order("1001")

    assert "tok_stale" not in str(caught.value)
    assert store.access_token not in str(caught.value)


def test_rotating_the_token_deauthorizes_the_old_one(client, store):
    client.check_authorization()

    new_token = store.rotate_token()

    with pytest.raises(NotAuthorized, match="no longer accepts"):
        client.check_authorization()
    assert SandboxStore.objects.get(pk=store.pk).access_token == new_token


def test_unknown_store_is_not_authorized(make_connection):
    client = SandboxClient(make_connection({"store": "nope", "access_token": "x"}))

    with pytest.raises(NotAuthorized, match="no such demo store"):
        client.check_authorization()


def test_throttled_store_is_rate_limited_for_the_remaining_time(client, store):
    store.throttled_until = timezone.now() + timedelta(minutes=5)
    store.save()

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert 295 < caught.value.retry_after <= 300
    assert client.throttle.blocked_until() is not None


def test_throttle_in_the_past_no_longer_limits(client, store):
    store.throttled_until = timezone.now() - timedelta(seconds=1)
    store.save()

    client.check_authorization()


def test_history_window_hides_older_orders(client, store):
    store.history_days = 60
    store.save()
    now = timezone.now()
    add_order(store, number="old", placed_at=now - timedelta(days=61))
    add_order(store, number="new", placed_at=now - timedelta(days=59))

    assert client.get_order("old") is None
    assert client.get_order("new") is not None
    listed = list(client.list_orders(now - timedelta(days=365)))
    assert [order.number for order in listed] == ["new"]


def test_capabilities_come_from_the_store(client, store):
    assert registry.capabilities("sandbox") == Capabilities(backfill=True, manual_sync=True)

    store.history_days = 30
    store.supports_backfill = False
    store.supports_manual_sync = False
    store.save()

    assert client.capabilities == Capabilities(backfill=False, manual_sync=False, history_days=30)


def test_list_orders_streams_in_pages_oldest_first(client, store, django_assert_max_num_queries):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    count = PAGE_SIZE * 2 + 500
    # Many orders share a placed_at, so paging must break ties by id.
    SandboxOrder.objects.bulk_create(
        SandboxOrder(
            store=store,
            number=str(10000 + i),
            placed_at=start + timedelta(minutes=i // 7),
            lines=[{"sku": "MUG-BLUE-001", "quantity": 1, "title": "Blue mug"}],
        )
        for i in range(count)
    )
    add_order(store, number="before", placed_at=start - timedelta(seconds=1))

    started = time.perf_counter()
    with django_assert_max_num_queries(2 * 3):  # a store check and a page, per page
        numbers = [order.number for order in client.list_orders(start)]
    elapsed = time.perf_counter() - started

    assert numbers == [str(10000 + i) for i in range(count)]
    assert count / elapsed > 1000  # orders per second: an import needs 500


def test_list_orders_rechecks_credentials_between_pages(client, store):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    SandboxOrder.objects.bulk_create(
        SandboxOrder(store=store, number=str(i), placed_at=start + timedelta(seconds=i))
        for i in range(PAGE_SIZE + 1)
    )
    orders = client.list_orders(start)
    for _ in range(PAGE_SIZE):
        next(orders)

    store.rotate_token()

    with pytest.raises(NotAuthorized):
        next(orders)


def test_lines_must_be_a_list_of_sku_quantity_title():
    validate_lines([{"sku": "A", "quantity": 1, "title": "x"}])
    with pytest.raises(ValidationError):
        validate_lines({"sku": "A"})
    with pytest.raises(ValidationError):
        validate_lines([{"sku": "A", "quantity": 0}])


def test_registry_builds_a_sandbox_client(store, make_connection):
    connection = make_connection({"store": store.handle, "access_token": store.access_token})

    client = registry.build_client("sandbox", connection)

    assert isinstance(client, SandboxClient)
    client.check_authorization()


def test_lines_with_nothing_to_ship_are_left_out(client, store):
    order = add_order(store)
    # validate_lines refuses these in admin; an update() or a script does not.
    SandboxOrder.objects.filter(pk=order.pk).update(
        lines=[{"sku": "A", "quantity": -1}, {"sku": "B", "quantity": 0}, {"sku": "C"}]
    )

    assert [(line.sku, line.quantity) for line in client.get_order("1001").lines] == [("C", 1)]


def test_an_order_in_an_unexpected_shape_is_listed_as_unreadable(client, store):
    add_order(store, number="1001")
    broken = add_order(store, number="1002")
    add_order(store, number="1003")
    SandboxOrder.objects.filter(pk=broken.pk).update(lines=[{"sku": "A", "quantity": "lots"}])

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1001", "1002", "1003"]
    assert isinstance(orders[1], UnreadableOrder)


def test_history_days_has_a_maximum(store):
    store.history_days = 2_000_000_000

    with pytest.raises(ValidationError) as caught:
        store.full_clean()

    assert "history_days" in caught.value.message_dict


def test_a_history_window_beyond_the_calendar_shows_everything(client, store):
    add_order(store, number="ancient", placed_at=datetime(1999, 1, 1, tzinfo=UTC))
    SandboxStore.objects.filter(pk=store.pk).update(history_days=10**6)  # skips the validator

    assert client.get_order("ancient") is not None
    assert [order.number for order in client.list_orders(datetime(1990, 1, 1, tzinfo=UTC))] == ["ancient"]


def test_the_table_holds_every_demo_status():
    assert {e.word for e in STATUSES} == set(SandboxOrderStatus.values)


@pytest.mark.parametrize(**every_word(STATUSES))
def test_each_demo_status_is_read_through_the_client_and_step_six_follows_its_outcome(client, store, entry):
    add_order(store, status=entry.word)

    assert_step_six_follows(entry, client.get_order("1001"))
