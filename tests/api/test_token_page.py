"""The API tokens page: a token is made, shown once, listed by its prefix and revoked after a confirmation."""

import re

import pytest
from django.test import Client

from apps.api.models import ApiToken
from apps.api.tokens import ACTIVE_TOKENS_MAX, token_authenticate, token_create
from tests.api.conftest import signed_in
from tests.factories import UserFactory
from tests.html import text

pytestmark = pytest.mark.django_db

PAGE = "/account/tokens/"
TOKEN = re.compile(r"kt_[A-Za-z0-9]{12}\.[A-Za-z0-9_-]{40}")


def make(client, **fields):
    return client.post(
        PAGE, {"name": "Support bot", "scopes": ["diagnose"], "expires_in_days": "30", **fields}
    )


def revoke_url(token) -> str:
    return f"{PAGE}{token.pk}/revoke/"


def test_signed_out_people_are_sent_to_sign_in(db):
    response = Client().get(PAGE)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_someone_in_no_account_is_told_so(db):
    response = signed_in(UserFactory()).get(PAGE)

    assert response.status_code == 404
    assert "not part of a Commerce Kitty account" in text(response.content.decode())
    assert make(signed_in(UserFactory())).status_code == 404
    assert not ApiToken.objects.exists()


def test_the_header_links_to_the_page(owner_client):
    assert f'href="{PAGE}"' in owner_client.get("/notifications/").content.decode()


def test_a_new_token_is_shown_once_in_the_answer_to_the_form(owner_client, owner):
    response = make(owner_client)

    assert response.status_code == 200  # rendered in the answer, never through a redirect
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = TOKEN.search(html).group(0)
    words = text(html)
    assert "It will not be shown again" in words
    assert "Copy" in html and "Ctrl+C" in words
    # A curl example with the token, three lines, against the account's plugins.
    example = re.search(r"<pre[^>]*><code>(.*?)</code></pre>", html, re.S).group(1)
    assert len(example.splitlines()) == 3 and raw in example
    assert "Authorization: Bearer $TOKEN" in text(example) and "http://testserver/api/v1/plugins" in example
    # It works, acting for the owner in this account.
    assert token_authenticate(raw).user == owner
    # Shown once: the list shows its prefix only, and nothing keeps the secret.
    again = owner_client.get(PAGE).content.decode()
    token = ApiToken.objects.get()
    assert raw not in again and raw.split(".")[1] not in again
    assert f"kt_{token.prefix}…" in again
    assert not any(raw in str(v) for v in owner_client.session.values())


def test_the_form_sent_again_makes_no_second_token_and_says_so(owner_client):
    form_key = re.search(r'name="form_key" value="([^"]+)"', owner_client.get(PAGE).content.decode()).group(1)
    first = make(owner_client, form_key=form_key)
    assert TOKEN.search(first.content.decode())
    # A reload of the answer sends the same form again.
    again = make(owner_client, form_key=form_key)

    assert again.status_code == 409
    words = text(again.content.decode())
    assert "“Support bot” was already made from this form" in words and "revoke it below" in words
    assert not TOKEN.search(again.content.decode())
    assert ApiToken.objects.count() == 1
    # A form shown anew makes another.
    assert make(owner_client, form_key="another").status_code == 200
    assert ApiToken.objects.count() == 2


def test_the_list_says_what_each_token_may_do_and_when_it_was_used(owner_client, owner, shop):
    token, raw = token_create(user=owner, merchant_id=shop.pk, name="Nightly script", scopes=["fix"])
    unused, _ = token_create(user=owner, merchant_id=shop.pk, name="Spare", scopes=[])
    token_authenticate(raw)

    html = owner_client.get(PAGE).content.decode()

    row = re.search(rf'<tr[^>]*data-token-prefix="{token.prefix}".*?</tr>', html, re.S).group(0)
    assert "Nightly script" in row and f"kt_{token.prefix}…" in row
    assert "Read articles, plugins" in row and "Apply the fixes checks offer" in row
    assert "Run checks and diagnoses" not in row
    assert "never used" not in row and "Active" in text(row)
    spare = re.search(rf'<tr[^>]*data-token-prefix="{unused.prefix}".*?</tr>', html, re.S).group(0)
    assert "never used" in spare


def test_the_form_offers_every_scope_with_read_always_on_and_30_days_chosen(owner_client):
    html = owner_client.get(PAGE).content.decode()

    assert re.search(r'<input type="checkbox" name="scopes" value="read" checked disabled>', html)
    assert re.search(r'<input type="checkbox" name="scopes" value="diagnose">', html)
    assert re.search(r'<input type="checkbox" name="scopes" value="fix">', html)
    assert '<option value="30" selected>30 days</option>' in html
    assert f"up to {ACTIVE_TOKENS_MAX} working tokens" in text(html)


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"name": ""}, "Give the token a name"),
        ({"name": "x" * 200}, "Keep the name to 80 characters (this one has 200)."),
        ({"scopes": ["diagnose", "superuser"]}, "Unknown scope: “superuser”"),
        ({"expires_in_days": "forever"}, "A token expires after 7, 30, 90 or 365 days."),
        ({"expires_in_days": "²"}, "A token expires after 7, 30, 90 or 365 days."),
        ({"expires_in_days": "3"}, "A token expires after 7, 30, 90 or 365 days."),
    ],
)
def test_bad_input_gets_the_form_again_saying_what_to_correct(owner_client, fields, words):
    response = make(owner_client, **fields)

    assert response.status_code == 400
    html = response.content.decode()
    assert words in text(html)
    assert 'aria-invalid="true"' in html or 'id="token-scopes-error"' in html
    assert not TOKEN.search(html) and not ApiToken.objects.exists()


def test_the_form_says_everything_to_correct_at_once(owner_client):
    words = text(make(owner_client, name="", scopes=["sudo"], expires_in_days="x").content.decode())

    assert "Give the token a name" in words and "Unknown scope: “sudo”" in words
    assert "A token expires after 7, 30, 90 or 365 days." in words


def test_the_form_again_keeps_what_was_typed(owner_client):
    html = make(owner_client, name="", scopes=["fix"], expires_in_days="90").content.decode()

    assert re.search(r'value="fix" checked', html)
    assert '<option value="90" selected>' in html


def test_nul_in_the_form_is_refused_without_an_error_page(owner_client):
    response = make(owner_client, name="bot\x00")

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_page_says_when_a_person_has_made_as_many_tokens_as_they_may(owner_client, owner, shop):
    for n in range(ACTIVE_TOKENS_MAX):
        token_create(user=owner, merchant_id=shop.pk, name=f"Bot {n}", scopes=[])

    response = make(owner_client, name="One too many")

    assert response.status_code == 400
    assert f"You already have {ACTIVE_TOKENS_MAX} working tokens in this account" in text(
        response.content.decode()
    )
    assert ApiToken.objects.count() == ACTIVE_TOKENS_MAX


def test_a_post_without_its_csrf_token_makes_nothing(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert make(client).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoking_asks_first_then_revokes(owner_client, owner, shop):
    token, raw = token_create(user=owner, merchant_id=shop.pk, name="Support bot", scopes=[])
    listed = owner_client.get(PAGE).content.decode()
    assert f'href="{revoke_url(token)}"' in listed

    asked = owner_client.get(revoke_url(token))

    assert asked.status_code == 200
    assert "Revoke “Support bot”?" in text(asked.content.decode())
    token.refresh_from_db()
    assert token.revoked_at is None  # asking changes nothing
    done = owner_client.post(revoke_url(token))
    assert done.status_code == 303 and done["Location"] == PAGE
    token.refresh_from_db()
    assert token.revoked_at is not None
    after = text(owner_client.get(PAGE).content.decode())
    assert "Revoked “Support bot” (kt_" in after  # the message
    assert re.search(r"Support bot .* Revoked \w{3} \d", after)
    assert owner_client.post(revoke_url(token)).status_code == 303  # again: says so, changes nothing
    assert "was already revoked" in text(owner_client.get(PAGE).content.decode())


def test_a_teammate_sees_and_revokes_only_their_own(owner_client, teammate_client, owner, teammate, shop):
    owners, _ = token_create(user=owner, merchant_id=shop.pk, name="Owner's bot", scopes=[])
    theirs, _ = token_create(user=teammate, merchant_id=shop.pk, name="Teammate's bot", scopes=[])

    page = text(teammate_client.get(PAGE).content.decode())

    assert "Teammate's bot" in page and "Owner's bot" not in page
    assert "Other members' working tokens" not in page
    not_theirs = teammate_client.get(revoke_url(owners))
    assert not_theirs.status_code == 404 and "Switch to" not in text(not_theirs.content.decode())
    assert teammate_client.post(revoke_url(owners)).status_code == 404
    owners.refresh_from_db()
    assert owners.revoked_at is None
    assert teammate_client.post(revoke_url(theirs)).status_code == 303


def test_an_owner_sees_every_members_working_token_and_may_revoke_it(owner_client, teammate, shop):
    theirs, _ = token_create(user=teammate, merchant_id=shop.pk, name="Teammate's bot", scopes=["fix"])

    html = owner_client.get(PAGE).content.decode()

    section = html.split('id="members-tokens"')[1]
    row = text(re.search(rf'<tr[^>]*data-token-prefix="{theirs.prefix}".*?</tr>', section, re.S).group(0))
    assert row.startswith("teammate Teammate's bot") and "Apply the fixes" in row and "never used" in row
    asked = text(owner_client.get(revoke_url(theirs)).content.decode())
    assert "Made by teammate" in asked
    owner_client.post(revoke_url(theirs))
    theirs.refresh_from_db()
    assert theirs.revoked_at is not None
    assert "Revoked “Teammate's bot” of teammate" in text(owner_client.get(PAGE).content.decode())


def test_someone_elses_token_is_not_found(outsider_client, owner_client, owner, outsider, shop):
    owners, _ = token_create(user=owner, merchant_id=shop.pk, name="Owner's bot", scopes=[])

    assert "Owner's bot" not in text(outsider_client.get(PAGE).content.decode())
    for url in (revoke_url(owners), f"{PAGE}{10**9}/revoke/"):
        assert outsider_client.get(url).status_code == 404
        assert outsider_client.post(url).status_code == 404
    owners.refresh_from_db()
    assert owners.revoked_at is None


def test_a_token_for_another_of_the_users_accounts_waits_for_a_switch(owner_client, owner, outsider):
    """Tokens act for the account the user works in; one made for their other account is not listed here."""
    from apps.commerce.models import Membership

    other = Membership.objects.get(user=outsider).merchant
    Membership.objects.create(user=owner, merchant=other, role=Membership.Role.STAFF)
    there, _ = token_create(user=owner, merchant_id=other.pk, name="Other shop's bot", scopes=[])

    assert "Other shop's bot" not in text(owner_client.get(PAGE).content.decode())
    elsewhere = owner_client.get(revoke_url(there))
    assert elsewhere.status_code == 404
    assert f"Switch to “{other.name}” and open it" in text(elsewhere.content.decode())
    owner_client.post("/account/switch/", {"account": other.pk, "next": PAGE})
    assert "Other shop's bot" in text(owner_client.get(PAGE).content.decode())
    assert owner_client.get(revoke_url(there)).status_code == 200


def test_a_form_shown_for_one_account_makes_nothing_after_a_switch_to_another(
    owner_client, owner, outsider, shop
):
    from apps.commerce.models import Membership

    other = Membership.objects.get(user=outsider).merchant
    Membership.objects.create(user=owner, merchant=other, role=Membership.Role.STAFF)
    owner_client.post("/account/switch/", {"account": other.pk, "next": PAGE})

    response = make(owner_client, account=str(shop.pk))

    assert response.status_code == 409
    assert f"You switched to “{other.name}” in another tab or window" in text(response.content.decode())
    assert not ApiToken.objects.exists()
    assert make(owner_client, account=str(other.pk)).status_code == 200
    assert ApiToken.objects.get().merchant_id == other.pk


def test_the_page_costs_the_same_few_queries_however_many_tokens(owner_client, owner, teammate, shop,
                                                                 django_assert_max_num_queries):  # fmt: skip
    for n in range(8):
        token_create(user=owner, merchant_id=shop.pk, name=f"Mine {n}", scopes=[])
        token_create(user=teammate, merchant_id=shop.pk, name=f"Theirs {n}", scopes=[])

    with django_assert_max_num_queries(8):
        html = owner_client.get(PAGE).content.decode()
    assert "Mine 7" in html and "Theirs 7" in html


def test_the_example_on_the_page_answers_and_stops_once_the_token_is_revoked(owner_client):
    raw = TOKEN.search(make(owner_client).content.decode()).group(0)
    api = Client()

    assert api.get("/api/v1/plugins", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    owner_client.post(revoke_url(ApiToken.objects.get()))
    refused = api.get("/api/v1/plugins", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert refused.status_code == 401 and "revoked" in refused.content.decode()
