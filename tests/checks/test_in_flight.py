"""A check already queued is joined, by the same person or a teammate, never started twice or changed."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.checks.services.running import check_runs_execute
from apps.commerce.models import Membership
from tests.checks.conftest import HTMX, plugin_named, start, status_of
from tests.factories import UserFactory
from tests.html import text

pytestmark = pytest.mark.django_db


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
