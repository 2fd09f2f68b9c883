"""Fixtures of the API's tests.

The demo account with tokens of each scope (the JSON API's and the MCP server's
tests), and a small account of its own with an owner, a teammate, and an
outsider who owns another account (the token page's and the command's tests).
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.api.tokens import token_create
from apps.commerce.models import Membership, Plugin
from tests.checks import conftest as checks_fixtures
from tests.factories import MembershipFactory, MerchantFactory, UserFactory

# The demo account committed for a real worker (the demo itself is every package's: tests/conftest.py).
live_demo = checks_fixtures.live_demo


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def merchant(demo):
    return get_user_model().objects.get(username="merchant")


@pytest.fixture
def main_account(merchant) -> int:
    """The demo merchant's first account (Commerce Kitty's main demo), where order 1004 is staged."""
    return Membership.objects.filter(user=merchant).order_by("pk").first().merchant_id


def token_for(user, merchant_id: int, *scopes: str, name: str = "Support bot") -> str:
    _, raw = token_create(user=user, merchant_id=merchant_id, name=name, scopes=list(scopes))
    return raw


@pytest.fixture
def reader(merchant, main_account) -> dict:
    return bearer(token_for(merchant, main_account))


@pytest.fixture
def diagnoser(merchant, main_account) -> dict:
    return bearer(token_for(merchant, main_account, "diagnose"))


@pytest.fixture
def fixer(merchant, main_account) -> dict:
    return bearer(token_for(merchant, main_account, "diagnose", "fix"))


def main_plugin(merchant_id: int) -> Plugin:
    return Plugin.objects.filter(merchant_id=merchant_id, name__contains="Main").get()


# --- A small account of its own: owner, teammate and outsider ---------------------


@pytest.fixture
def shop(db):
    """An account that is not the demo's (no article, no plugins): quick to make."""
    return MerchantFactory(name="Whisker Test Co.")


@pytest.fixture
def owner(shop):
    return MembershipFactory(
        merchant=shop, user=UserFactory(username="owner"), role=Membership.Role.OWNER
    ).user


@pytest.fixture
def teammate(shop):
    return MembershipFactory(
        merchant=shop, user=UserFactory(username="teammate"), role=Membership.Role.STAFF
    ).user


@pytest.fixture
def outsider(db):
    return MembershipFactory(user=UserFactory(username="outsider"), role=Membership.Role.OWNER).user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is an answer the test sees, not an exception
    return client


@pytest.fixture
def owner_client(owner):
    return signed_in(owner)


@pytest.fixture
def teammate_client(teammate):
    return signed_in(teammate)


@pytest.fixture
def outsider_client(outsider):
    return signed_in(outsider)
