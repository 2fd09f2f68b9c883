"""An account with an owner, a teammate and an outsider, and a diagnosis with runs to send."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.commerce.models import Membership
from tests.factories import MembershipFactory, MerchantFactory, PluginFactory, UserFactory

from .factories import CheckRunFactory, DiagnosisFactory

PLUGIN_NAME = "Etsy Shop"
ORDER_NUMBER = "1042"


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Kitty Goods")


@pytest.fixture
def plugin(merchant):
    return PluginFactory(merchant=merchant, name=PLUGIN_NAME, platform="shopify")


@pytest.fixture
def owner(merchant):
    user = UserFactory(username="olive", email="olive@kittygoods.example")
    MembershipFactory(user=user, merchant=merchant, role=Membership.Role.OWNER)
    return user


@pytest.fixture
def teammate(merchant):
    user = UserFactory(username="tom", email="tom@kittygoods.example")
    MembershipFactory(user=user, merchant=merchant, role=Membership.Role.STAFF)
    return user


@pytest.fixture
def outsider(db):
    user = UserFactory(username="oscar", email="oscar@elsewhere.example")
    MembershipFactory(user=user, role=Membership.Role.OWNER)  # a merchant of their own
    return user


@pytest.fixture
def diagnosis(article, plugin, owner):
    """Order #1042 through "Etsy Shop": Step 1 fixed then passed, Step 3 failed, Step 6 couldn't check."""
    article.refresh_from_db()  # the import's instance predates publishing
    diagnosis = DiagnosisFactory(plugin=plugin, user=owner, page=article, order_number=ORDER_NUMBER)
    start = timezone.now() - timedelta(minutes=10)

    def run(minutes: int, **fields):
        return CheckRunFactory(diagnosis=diagnosis, queued_at=start + timedelta(minutes=minutes), **fields)

    run(
        0,
        step_number=1,
        check_key="import_orders_enabled",
        status=CheckRun.State.FAILED,
        summary=f"Import Orders is off for “{PLUGIN_NAME}”.",
    )
    run(
        1,
        step_number=1,
        check_key="import_orders_enabled",
        status=CheckRun.State.PASSED,
        summary=f"Import Orders is on for “{PLUGIN_NAME}”.",
        fixes_applied=[
            {
                "key": "turn_on_import_orders",
                "choice": "",
                "by": "olive",
                "result": f"Turned on Import Orders for “{PLUGIN_NAME}”.",
                "at": (start + timedelta(minutes=1)).isoformat(),
            }
        ],
    )
    run(
        2,
        step_number=3,
        check_key="order_age",
        status=CheckRun.State.FAILED,
        summary=f"Order #{ORDER_NUMBER} was placed on Mar 2, before Import Orders was turned on.",
        evidence=["Placed date from the platform."],
        data={"placed_at": "2025-03-02T10:15:00+00:00", "placed_at_from": "the platform"},
    )
    run(
        3,
        step_number=6,
        check_key="source_order_state",
        status=CheckRun.State.UNKNOWN,
        summary="Couldn't look the order up on the platform: the platform did not answer.",
        evidence=["Try again in a few minutes."],
    )
    return diagnosis


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client
