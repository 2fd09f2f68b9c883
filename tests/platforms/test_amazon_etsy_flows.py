"""Reauthorize for Amazon and Etsy: the consent address, a declined consent, and an answer for another seller."""

from urllib.parse import parse_qs, urlparse

import pytest

from apps.platforms.authorization import AuthorizationAnswer, AuthorizationStart, CallbackRejected
from apps.platforms.base import Connection
from apps.platforms.etsy import code_challenge
from apps.platforms.registry import provider


def start(**kept) -> AuthorizationStart:
    return AuthorizationStart(
        state="opaque-state",
        callback_url="https://help.example/account/oauth/x/callback/",
        return_url="https://help.example/account/oauth/x/return/",
        next_url="/help/",
        kept=kept,
    )


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def test_unconfigured_flows_are_not_offered_and_say_how_to_reconnect(settings):
    settings.AMAZON_SPAPI_APPLICATION_ID = ""
    settings.ETSY_KEYSTRING = ""

    for key, words in (("amazon", "Seller Central"), ("etsy", "shop's owner")):
        flow = provider(key).flow
        assert not flow.available()
        assert words in flow.reconnect_advice()


def test_amazon_sends_the_seller_to_seller_central_with_the_state(settings):
    settings.AMAZON_SPAPI_APPLICATION_ID = "amzn1.sp.solution.app"
    settings.AMAZON_LWA_CLIENT_ID, settings.AMAZON_LWA_CLIENT_SECRET = "client", "secret"
    flow = provider("amazon").flow

    url = flow.authorize_url({}, start())

    assert flow.available()
    assert url.startswith("https://sellercentral.amazon.com/apps/authorize/consent?")
    assert query(url)["state"] == "opaque-state" and query(url)["application_id"] == "amzn1.sp.solution.app"


def test_amazon_declined_changes_nothing_and_another_seller_is_refused(settings):
    flow = provider("amazon").flow
    connection = Connection(credentials={}, bucket="plugin-test")

    def answer(credentials, params):
        return AuthorizationAnswer(credentials, params, connection, callback_url="https://help.example/cb/")

    assert flow.finish(answer({"selling_partner_id": "A1"}, {"state": "s"})) is None
    with pytest.raises(CallbackRejected, match="another Amazon seller account"):
        flow.finish(
            answer({"selling_partner_id": "A1"}, {"spapi_oauth_code": "c", "selling_partner_id": "B2"})
        )


def test_etsy_keeps_a_pkce_verifier_and_sends_only_its_challenge(settings):
    settings.ETSY_KEYSTRING = "keystring"
    flow = provider("etsy").flow

    kept = flow.begin({})
    url = flow.authorize_url({}, start(**kept))

    assert flow.available() and len(kept["code_verifier"]) >= 43
    assert query(url)["code_challenge"] == code_challenge(kept["code_verifier"])
    assert kept["code_verifier"] not in url
    assert query(url)["code_challenge_method"] == "S256" and query(url)["state"] == "opaque-state"
    connection = Connection(credentials={}, bucket="plugin-test")
    callback_url = "https://help.example/cb/"
    declined = AuthorizationAnswer(
        {}, {"error": "access_denied"}, connection, callback_url=callback_url, kept=kept
    )
    assert flow.finish(declined) is None
    with pytest.raises(CallbackRejected, match="not started here"):
        flow.finish(AuthorizationAnswer({}, {"code": "c"}, connection, callback_url=callback_url, kept={}))
