"""Addresses that name no language answer in the language of the page an htmx answer goes into, else the reader's."""

import pytest

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_htmx_answer_speaks_the_language_of_the_page_it_goes_into(client):
    page = client.get(
        "/accounts/login/",
        HTTP_ACCEPT_LANGUAGE="fr",
        HTTP_HX_CURRENT_URL="http://testserver/de/help/x/",
        **HTMX,
    )

    assert page.status_code == 200
    assert page["Content-Language"] == "de"
    assert "Benutzername" in page.content.decode()


@pytest.mark.parametrize("garbage", ["http://[::1/help/", "not an address", "%FF%FE", "/" * 5000])
def test_a_page_address_that_is_no_address_falls_back_to_the_readers_language(client, garbage):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr", HTTP_HX_CURRENT_URL=garbage, **HTMX)

    assert page.status_code == 200
    assert page["Content-Language"] == "fr"
    assert "Nom d'utilisateur" in page.content.decode()
