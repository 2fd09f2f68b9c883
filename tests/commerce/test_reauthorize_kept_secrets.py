"""A flow that must keep a secret until the platform answers (OAuth with PKCE) gets it back, encrypted meanwhile."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.db import connection

from apps.platforms import registry
from apps.platforms.authorization import AuthorizationFlow, CallbackRejected
from tests.factories import MembershipFactory, PluginFactory
from tests.platforms.test_providers import OneLineClient  # noqa: F401 (the provider line names it)

pytestmark = pytest.mark.django_db


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class PkceFlow(AuthorizationFlow):
    """A consent page that takes a code challenge and a token exchange that wants the verifier."""

    def available(self):
        return True

    def begin(self, credentials):
        return {"code_verifier": secrets.token_urlsafe(48)}

    def authorize_url(self, credentials, start):
        query = {"state": start.state, "code_challenge": challenge(start.kept["code_verifier"])}
        return f"https://consent.example/authorize?{urlencode(query)}"

    def finish(self, answer):
        # The platform checks the verifier against the challenge it was shown.
        if challenge(answer.kept.get("code_verifier", "")) != answer.params.get("challenge_seen"):
            raise CallbackRejected("The verifier does not match.")
        return {"token": f"token-for-{answer.params['code']}"}


FLOW = PkceFlow()


@pytest.fixture
def pkce_provider(monkeypatch):
    line = registry.Provider("pkcetest", "PKCE Test", __name__, client="OneLineClient", authorization="FLOW")
    monkeypatch.setitem(registry._BY_KEY, "pkcetest", line)
    return line


@pytest.fixture
def owner_client(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.merchant = membership.merchant
    return client


def test_the_kept_verifier_comes_back_to_finish_and_is_stored_encrypted(owner_client, pkce_provider):
    plugin = PluginFactory(merchant=owner_client.merchant, platform="pkcetest", credentials={"token": "old"})

    start = owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/?next=/help/")
    query = {key: values[0] for key, values in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT kept FROM commerce_authorizationstate")
        (raw,) = cursor.fetchone()
    assert "code_verifier" not in raw

    back = owner_client.get(
        "/account/oauth/pkcetest/callback/",
        {"state": query["state"], "code": "abc", "challenge_seen": query["code_challenge"]},
    )

    assert back.headers["Location"] == "/help/"
    plugin.refresh_from_db()
    assert plugin.credentials["token"] == "token-for-abc"
