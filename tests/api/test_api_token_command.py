"""./manage.py api_token: make a token for scripts (its last line), list a user's, revoke one by its prefix."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.api.models import ApiToken
from apps.api.tokens import TokenRefused, token_authenticate
from apps.commerce.models import Membership
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_last_line_is_a_working_token_for_the_users_default_account(owner, shop):
    lines = run("create", "owner", "--scope", "diagnose", "--scope", "fix", "--name", "Support bot")

    access = token_authenticate(lines[-1])
    assert access.user == owner and access.account.merchant_id == shop.pk
    assert access.token.scopes == ["read", "diagnose", "fix"] and access.token.name == "Support bot"
    assert "Whisker Test Co." in "\n".join(lines[:-1])
    assert lines[-1] not in "\n".join(lines[:-1])


def test_a_token_for_another_account_of_the_user_by_its_id(owner):
    other = MerchantFactory(name="Second Shop")
    Membership.objects.create(user=owner, merchant=other, role=Membership.Role.STAFF)

    lines = run("create", "owner", "--account", str(other.pk), "--days", "7")

    access = token_authenticate(lines[-1])
    assert access.account.merchant_id == other.pk and access.token.scopes == ["read"]


@pytest.mark.parametrize(
    "args,words",
    [
        (["create", "nobody"], "No user is called “nobody”."),
        (["create", "outsider", "--account", "1"], "outsider is not a member of account 1."),
        (["create", "owner", "--scope", "sudo"], "Unknown scope: “sudo”"),
        (["create", "owner", "--name", ""], "Give the token a name"),
        (["create", "owner", "--days", "2"], "invalid choice"),
        (["revoke", "kt_nothinghere"], "No token starts with “kt_nothinghere”"),
        (["list", "nobody"], "No user is called “nobody”."),
    ],
)
def test_what_cannot_be_done_is_a_clear_error(owner, outsider, args, words):
    with pytest.raises(CommandError, match=words):
        run(*args)
    assert not ApiToken.objects.exists()


def test_a_user_in_no_account_gets_no_token(db):
    from tests.factories import UserFactory

    UserFactory(username="loner")

    with pytest.raises(CommandError, match="not a member of any account"):
        run("create", "loner")


def test_list_shows_prefixes_never_secrets_and_revoke_takes_a_prefix_as_listed(owner):
    raw = run("create", "owner", "--name", "Nightly")[-1]
    token = ApiToken.objects.get()

    listed = "\n".join(run("list", "owner"))
    assert f"kt_{token.prefix}" in listed and "Nightly" in listed and "never used" in listed
    assert raw not in listed

    said = run("revoke", f"kt_{token.prefix}…")
    assert said == [f"Revoked “Nightly” (kt_{token.prefix}…) of owner."]
    with pytest.raises(TokenRefused, match="revoked"):
        token_authenticate(raw)
    assert "revoked" in "\n".join(run("list", "owner"))
    assert "already revoked" in run("revoke", raw)[0]  # the whole token pasted works too
