"""Admins stage demo scenarios in Django admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.platforms.models import SandboxOrder, SandboxStore

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> SandboxStore:
    return SandboxStore.objects.create(handle="kitty-demo", name="Kitty Demo")


@pytest.fixture
def order(store) -> SandboxOrder:
    return SandboxOrder.objects.create(
        store=store,
        number="1001",
        placed_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        email="ada@example.com",
        lines=[{"sku": "MUG-BLUE-001", "quantity": 1, "title": "Blue mug"}],
    )


def test_order_list_filters_by_status_and_searches_by_email(admin_client, order):
    url = reverse("admin:platforms_sandboxorder_changelist")

    found = admin_client.get(url, {"q": "ada@example", "status__exact": "paid"})
    missing = admin_client.get(url, {"q": "nobody@example"})

    assert found.status_code == 200
    assert "1001" in found.content.decode()
    assert "1001" not in missing.content.decode()


def test_admin_edits_an_orders_lines(admin_client, order):
    url = reverse("admin:platforms_sandboxorder_change", args=[order.pk])
    lines = [{"sku": "MUG-RED-001", "quantity": 3, "title": "Red mug"}]
    form = {
        "store": order.store.pk,
        "number": "1001",
        "placed_at_0": "2026-01-05",
        "placed_at_1": "10:00:00",
        "status": "on_hold",
        "currency": "EUR",
        "total": "",
        "lines": json.dumps(lines),
        "email": "ada@example.com",
        "first_name": "",
        "last_name": "",
        "address_line1": "",
        "postcode": "",
        "city": "",
        "country": "",
    }

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form)

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.lines) == ("on_hold", lines)


def test_admin_refuses_lines_without_a_quantity(admin_client, order):
    url = reverse("admin:platforms_sandboxorder_change", args=[order.pk])
    form = {
        "store": order.store.pk,
        "number": "1001",
        "placed_at_0": "2026-01-05",
        "placed_at_1": "10:00:00",
        "status": "paid",
        "currency": "EUR",
        "lines": json.dumps([{"sku": "MUG-RED-001", "quantity": 0}]),
    }

    response = admin_client.post(url, form)

    assert response.status_code == 200
    assert "quantity must be a whole number" in response.content.decode()


def test_rotate_token_action_changes_the_token(admin_client, store):
    old_token = store.access_token

    response = admin_client.post(
        reverse("admin:platforms_sandboxstore_changelist"),
        {"action": "rotate_tokens", "_selected_action": [store.pk]},
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.access_token != old_token


def new_order_form(store, number: str) -> dict:
    return {
        "store": store.pk,
        "number": number,
        "placed_at_0": "2026-01-06",
        "placed_at_1": "10:00:00",
        "status": "paid",
        "currency": "EUR",
        "lines": json.dumps([{"sku": "MUG-BLUE-001", "quantity": 1}]),
    }


def test_adding_an_existing_number_typed_with_a_hash_says_it_already_exists(admin_client, order):
    url = reverse("admin:platforms_sandboxorder_add")

    response = admin_client.post(url, new_order_form(order.store, "#1001"))

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert SandboxOrder.objects.count() == 1


def test_a_number_typed_with_a_hash_is_saved_bare(admin_client, store):
    response = admin_client.post(
        reverse("admin:platforms_sandboxorder_add"), new_order_form(store, " #1002 ")
    )

    assert response.status_code == 302
    assert SandboxOrder.objects.get().number == "1002"


def test_a_number_that_is_only_a_hash_is_refused(admin_client, store):
    response = admin_client.post(reverse("admin:platforms_sandboxorder_add"), new_order_form(store, "#"))

    assert response.status_code == 200
    assert "letter or digit" in response.content.decode()
    assert not SandboxOrder.objects.exists()


def test_a_history_window_beyond_the_maximum_is_a_form_error(admin_client, store):
    url = reverse("admin:platforms_sandboxstore_change", args=[store.pk])
    form = {
        "handle": store.handle,
        "name": store.name,
        "history_days": "2000000000",
        "supports_backfill": "on",
        "supports_manual_sync": "on",
    }

    response = admin_client.post(url, form)

    assert response.status_code == 200
    assert "3650" in response.content.decode()
    store.refresh_from_db()
    assert store.history_days is None
