import pytest
from django.contrib.auth import get_user_model

from apps.api.tokens import token_create
from apps.commerce.models import Membership, Plugin
from tests.checks import conftest as checks_fixtures

# The demo account as ./dev demo leaves it, and the same committed for a real worker.
demo = checks_fixtures.demo
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
