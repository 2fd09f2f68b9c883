"""Tokens are stored hashed, made only as asked, and refused in words once revoked, expired or orphaned."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.api.models import ApiToken
from apps.api.tokens import (
    ACTIVE_TOKENS_MAX,
    LAST_USED_EVERY,
    Scope,
    TokenInvalid,
    TokenRefused,
    token_authenticate,
    token_create,
    token_revoke,
)
from apps.commerce.models import Membership
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def make(user, shop, **fields):
    return token_create(
        user=user, merchant_id=shop.pk, **{"name": "Support bot", "scopes": ["diagnose"], **fields}
    )


def refusal(raw: str, **kwargs) -> str:
    with pytest.raises(TokenRefused) as refused:
        token_authenticate(raw, **kwargs)
    return str(refused.value)


def test_only_a_hash_of_the_secret_is_stored(owner, shop):
    token, raw = make(owner, shop)

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw.startswith(f"kt_{token.prefix}.")
    assert stored["secret_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.split(".", 1)[1]
    assert not any(secret in str(value) for value in stored.values())


def test_a_token_acts_for_its_user_in_its_account_with_its_scopes(owner, shop):
    _token, raw = make(owner, shop, scopes=["diagnose"])

    access = token_authenticate(raw)

    assert access.user == owner and access.account.merchant_id == shop.pk and access.account.is_owner
    assert access.allows(Scope.READ) and access.allows(Scope.DIAGNOSE) and not access.allows(Scope.FIX)
    assert access.token.scopes == ["read", "diagnose"]


@pytest.mark.parametrize(
    "raw,words",
    [
        ("", "not a Kitty Troubleshoot token"),
        ("Bearer nonsense", "not a Kitty Troubleshoot token"),
        ("kt_AAAAAAAAAAAA." + "a" * 40, "not known"),
        (None, "not a Kitty Troubleshoot token"),
    ],
)
def test_garbage_is_refused_in_words(db, raw, words):
    assert words in refusal(raw)


def test_the_right_prefix_with_another_secret_is_not_known(owner, shop):
    _token, raw = make(owner, shop)
    forged = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")

    assert "not known" in refusal(forged)


def test_a_revoked_token_is_refused_at_its_next_call(owner, shop):
    token, raw = make(owner, shop)
    token_authenticate(raw)

    assert token_revoke(token=token) is True
    assert token_revoke(token=token) is False  # once is for good
    assert refusal(raw) == "That token has been revoked."


def test_an_expired_token_is_refused_and_says_where_to_make_another(owner, shop):
    _token, raw = make(owner, shop, expires_in_days=7)

    words = refusal(raw, now=timezone.now() + timedelta(days=7, seconds=1))

    assert "expired" in words and "API tokens page" in words
    token_authenticate(raw, now=timezone.now() + timedelta(days=6, hours=23))


def test_a_token_stops_when_its_user_cannot_sign_in(owner, shop):
    _token, raw = make(owner, shop)
    owner.is_active = False
    owner.save()

    assert "can no longer sign in" in refusal(raw)


def test_leaving_the_account_revokes_the_tokens_made_for_it_and_no_others(owner, teammate, shop):
    elsewhere = MerchantFactory()
    Membership.objects.create(user=teammate, merchant=elsewhere, role=Membership.Role.STAFF)
    mine, raw = make(teammate, shop)
    _other, raw_elsewhere = make(teammate, elsewhere)

    Membership.objects.filter(user=teammate, merchant=shop).delete()

    assert refusal(raw) == "That token has been revoked."
    # Added back, the old token stays revoked: it was made for the earlier stay.
    Membership.objects.create(user=teammate, merchant=shop, role=Membership.Role.STAFF)
    assert refusal(raw) == "That token has been revoked."
    assert token_authenticate(raw_elsewhere).account.merchant_id == elsewhere.pk
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_a_token_whose_user_is_no_longer_a_member_is_refused(owner, teammate, shop):
    """Even if the membership went without a signal (moved by an update), the token asks on every call."""
    _token, raw = make(teammate, shop)
    Membership.objects.filter(user=teammate, merchant=shop).update(merchant=MerchantFactory())

    assert refusal(raw) == "That token's user is no longer a member of its account."


def test_last_use_is_written_at_most_once_a_minute(owner, shop, django_assert_num_queries):
    token, raw = make(owner, shop)
    start = timezone.now()

    token_authenticate(raw, now=start)
    with django_assert_num_queries(2):  # the token with its user, the membership: no write
        token_authenticate(raw, now=start + LAST_USED_EVERY - timedelta(seconds=1))
    token.refresh_from_db()
    assert token.last_used_at == start

    later = start + LAST_USED_EVERY
    token_authenticate(raw, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later


@pytest.mark.parametrize(
    "fields,field,words",
    [
        ({"name": "   "}, "name", "Give the token a name"),
        ({"name": "\x00\u202e"}, "name", "Give the token a name"),
        ({"name": "x" * 200}, "name", "Keep the name to 80 characters (this one has 200)"),
        ({"scopes": ["admin"]}, "scopes", "Unknown scope: “admin”. Choose from read, diagnose and fix."),
        ({"expires_in_days": 3}, "expires_in_days", "A token expires after 7, 30, 90 or 365 days."),
        ({"expires_in_days": None}, "expires_in_days", "A token expires after 7, 30, 90 or 365 days."),
        ({"expires_in_days": True}, "expires_in_days", "A token expires after"),
    ],
)
def test_a_token_that_cannot_be_used_is_not_made(owner, shop, fields, field, words):
    with pytest.raises(TokenInvalid) as refused:
        make(owner, shop, **fields)

    assert words in str(refused.value) and refused.value.field == field
    assert not ApiToken.objects.exists()


def test_a_name_keeps_its_words_and_loses_its_controls(owner, shop):
    token, _raw = make(owner, shop, name="  Support\tbot \u202eevil\x07  ")

    assert token.name == "Support bot evil"


def test_nobody_makes_a_token_for_an_account_they_are_not_in(outsider, shop):
    with pytest.raises(LookupError):
        make(outsider, shop)


def test_one_person_has_at_most_so_many_working_tokens_in_an_account(owner, teammate, shop):
    for n in range(ACTIVE_TOKENS_MAX):
        make(owner, shop, name=f"Bot {n}")

    with pytest.raises(TokenInvalid) as refused:
        make(owner, shop, name="One more")
    assert f"already have {ACTIVE_TOKENS_MAX} working tokens" in str(refused.value)

    make(teammate, shop)  # the limit is per person
    token_revoke(token=ApiToken.objects.filter(user=owner).first())
    make(owner, shop, name="One more")  # a revoked one frees its place
