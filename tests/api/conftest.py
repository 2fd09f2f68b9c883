"""An account with its owner and a teammate, and an outsider who owns another account."""

import pytest
from django.test import Client

from apps.commerce.models import Membership
from tests.factories import MembershipFactory, MerchantFactory, UserFactory


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Whisker Test Co.")


@pytest.fixture
def owner(merchant):
    return MembershipFactory(
        merchant=merchant, user=UserFactory(username="owner"), role=Membership.Role.OWNER
    ).user


@pytest.fixture
def teammate(merchant):
    return MembershipFactory(
        merchant=merchant, user=UserFactory(username="teammate"), role=Membership.Role.STAFF
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
