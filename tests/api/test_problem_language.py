"""Problems are said in the caller's language (Accept-Language), English by default; their type never changes."""

import uuid

import pytest

from tests.api.conftest import bearer, token_for

PROBLEM = "application/problem+json"


@pytest.fixture
def owner_token(owner, shop) -> dict:
    return bearer(token_for(owner, shop.pk))


def no_such_diagnosis(client, token, **headers):
    return client.get(f"/api/v1/diagnoses/{uuid.uuid4()}", **token, **headers)


@pytest.mark.parametrize(
    ("accept", "title", "detail"),
    [
        ("", "Not found", "There is no such diagnosis in this token's account."),
        ("de-DE,de;q=0.9,en;q=0.5", "Nicht gefunden", "Im Konto dieses Tokens gibt es diese Diagnose nicht."),
        ("fr-CH, fr;q=0.9", "Introuvable", "Ce diagnostic n’existe pas dans le compte de ce jeton."),
        ("es, de;q=0.5", "Nicht gefunden", "Im Konto dieses Tokens gibt es diese Diagnose nicht."),
        ("es", "Not found", "There is no such diagnosis in this token's account."),
    ],
)
def test_a_problem_is_said_in_the_callers_language(client, owner_token, accept, title, detail):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}

    response = no_such_diagnosis(client, owner_token, **headers)

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["title"], body["detail"]) == (title, detail)
    assert body["type"] == "/api/v1/docs#problem-not-found"  # for programs: the same in every language
    assert "Accept-Language" in response["Vary"]


def test_a_language_cookie_does_not_change_the_apis_language(client, owner_token):
    client.cookies["django_language"] = "de"

    assert no_such_diagnosis(client, owner_token).json()["title"] == "Not found"


def test_a_missing_token_is_refused_in_german(client):
    body = client.get("/api/v1/plugins", HTTP_ACCEPT_LANGUAGE="de").json()

    assert body["title"] == "Nicht angemeldet"
    assert body["detail"] == "Senden Sie ein Token: Authorization: Bearer kt_…"


def test_an_unknown_address_is_answered_in_french(client, db):
    body = client.get("/api/v1/nowhere", HTTP_ACCEPT_LANGUAGE="fr").json()

    assert body["detail"] == "Il n’y a rien à cette adresse dans l’API."


def test_the_mcp_server_refuses_in_the_callers_language(client, owner_token):
    response = client.get("/mcp/", HTTP_ACCEPT_LANGUAGE="de", **owner_token)

    assert response.status_code == 405
    assert response.json()["title"] == "Methode nicht erlaubt"
    assert "JSON-RPC-Nachricht pro POST" in response.json()["detail"]
