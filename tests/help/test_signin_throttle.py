"""Sign-in is throttled per account and per address, and says so on the sign-in page."""

import re
from html import unescape

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed sign-ins"


@pytest.fixture
def users(db):
    for name in ("merchant", "teammate"):
        user = UserFactory(username=name)
        user.set_password(f"right-{name}")
        user.save()


def sign_in(username: str, password: str, *, address: str = "203.0.113.7", **extra):
    return Client(REMOTE_ADDR=address, **extra).post(
        "/accounts/login/", {"username": username, "password": password, "next": "/help/"}
    )


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_25_wrong_passwords_then_the_right_one_is_refused_with_the_wait(users):
    for _ in range(25):
        sign_in("merchant", "guess")

    response = sign_in("merchant", "right-merchant")

    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session
    page = text(response)
    assert LOCKED in page
    assert "locked for 15 minutes" in page
    assert 'value="merchant"' in response.content.decode()  # still the sign-in page, name kept


def test_the_locked_account_is_refused_from_another_address_too(users, settings):
    for _ in range(settings.SIGN_IN_FAILURE_LIMIT):
        sign_in("merchant", "guess", address="203.0.113.7")

    assert sign_in("merchant", "right-merchant", address="198.51.100.9").status_code == 429


def test_a_locked_address_is_refused_for_other_accounts(users, settings):
    for name in ("merchant", "nobody", "admin", "root", "test"):
        sign_in(name, "guess", address="203.0.113.7")

    assert sign_in("teammate", "right-teammate", address="203.0.113.7").status_code == 429


def test_another_user_at_another_address_signs_in_normally(users, settings):
    for _ in range(25):
        sign_in("merchant", "guess", address="203.0.113.7")

    response = sign_in("teammate", "right-teammate", address="198.51.100.9")

    assert response.status_code == 302
    assert response.headers["Location"] == "/help/"


def test_a_few_mistakes_then_the_right_password_signs_in_and_resets_the_count(users, settings):
    for _ in range(settings.SIGN_IN_FAILURE_LIMIT - 1):
        assert sign_in("merchant", "guess").status_code == 200
    assert sign_in("merchant", "right-merchant").status_code == 302

    for _ in range(settings.SIGN_IN_FAILURE_LIMIT - 1):
        sign_in("merchant", "guess")
    assert sign_in("merchant", "right-merchant").status_code == 302


def test_behind_a_trusted_proxy_the_clients_own_address_is_throttled(users, settings):
    settings.SIGN_IN_TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for name in ("a", "b", "c", "d", "e"):
        sign_in(name, "guess", address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")

    # A different client behind the same proxy is not locked out with the guesser.
    other = sign_in("teammate", "right-teammate", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9")
    # A forged leftmost entry does not get the guesser out of the lock.
    forged = sign_in("teammate", "right-teammate", address=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7")

    assert other.status_code == 302
    assert forged.status_code == 429
