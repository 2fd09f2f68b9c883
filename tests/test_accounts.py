"""A user in several merchant accounts works in one at a time, chosen in the header or the check panel.

Everything account-scoped follows the chosen account: the panel's plugins,
check runs and diagnoses, fixes (and who may apply them), tickets and
Reauthorize. An id from the other account is a 404, even for a member of it.
"""

import re
from html import unescape

import pytest
from django.test import Client

from apps.checks.models import CheckRun, Diagnosis
from apps.commerce.models import Membership
from tests.factories import MerchantFactory, PluginFactory, UserFactory
from tests.html import text
from tests.support.factories import SupportTicketFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alpha():
    """The account the user joined first (their default), as its owner."""
    merchant = MerchantFactory(name="Alpha Goods")
    PluginFactory(merchant=merchant, name="Alpha web store")
    return merchant


@pytest.fixture
def beta():
    """The account the user joined later, as staff; its plugin has Import Orders off."""
    merchant = MerchantFactory(name="Beta Crafts")
    PluginFactory(
        merchant=merchant, name="Beta market stall", import_orders=False, import_orders_enabled_at=None
    )
    return merchant


@pytest.fixture
def two_accounts_user(alpha, beta):
    user = UserFactory(username="pat")
    Membership.objects.create(user=user, merchant=alpha, role=Membership.Role.OWNER)
    Membership.objects.create(user=user, merchant=beta, role=Membership.Role.STAFF)
    return user


@pytest.fixture
def pat(client, two_accounts_user, article):
    client.force_login(two_accounts_user)
    return client


def plugin_of(merchant):
    return merchant.plugins.get()


def switch(client, merchant, *, next_url="/help/"):
    return client.post("/account/switch/", {"account": merchant.pk, "next": next_url})


def panel_plugins(client, article) -> list[str]:
    html = client.get(article.url).content.decode()
    select = re.search(r'<select id="check-subject".*?</select>', html, re.S)
    return (
        re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", unescape(select.group(0)))
        if select
        else []
    )


def start_step_1(client, article, plugin):
    return client.post(
        "/checks/start/",
        {"page": article.pk, "subject": plugin.pk, "block_id": article.steps[0].id, "order_number": ""},
        **HTMX,
    )


def test_the_oldest_membership_is_the_account_until_another_is_chosen(pat, article):
    html = pat.get(article.url).content.decode()

    assert panel_plugins(pat, article) == ["Alpha web store"]
    # One switcher, the header's, offers both accounts and shows the current one; the panel names it.
    assert html.count('name="account"') == 1
    assert re.search(r'<option value="\d+" selected>\s*Alpha Goods', html)
    assert "Checking the account <strong>Alpha Goods</strong>" in html


def test_switching_changes_the_panels_plugins_and_is_remembered(pat, article, beta):
    response = switch(pat, beta, next_url=f"{article.url}#check-panel")

    assert response.status_code == 303
    assert response.headers["Location"] == f"{article.url}#check-panel"
    page = pat.get(article.url).content.decode()
    assert "You are now working in “Beta Crafts”." in text(page)
    assert "Checking the account <strong>Beta Crafts</strong>" in page
    assert panel_plugins(pat, article) == ["Beta market stall"]  # on every later page too


def test_the_switcher_refuses_an_account_the_user_is_not_in(pat, article):
    stranger = MerchantFactory(name="Someone Else")
    PluginFactory(merchant=stranger, name="Their store")

    assert switch(pat, stranger).status_code == 404
    assert pat.post("/account/switch/", {"account": "beta"}).status_code == 404
    assert panel_plugins(pat, article) == ["Alpha web store"]


def test_the_switcher_only_goes_back_to_this_site(pat, beta):
    response = switch(pat, beta, next_url="https://evil.example/phish")

    assert response.headers["Location"] == "/help/"


def test_switching_is_a_post_with_a_csrf_token(two_accounts_user, article, beta):
    client = Client(enforce_csrf_checks=True)
    client.force_login(two_accounts_user)

    assert client.get("/account/switch/").status_code == 405
    assert switch(client, beta).status_code == 403
    assert panel_plugins(client, article) == ["Alpha web store"]


def test_a_signed_out_switch_goes_to_sign_in(client, beta):
    response = switch(client, beta)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_another_accounts_ids_are_404_even_for_a_member_of_it(pat, article, two_accounts_user, alpha, beta):
    assert start_step_1(pat, article, plugin_of(alpha)).status_code == 200
    run = CheckRun.objects.get()
    diagnosis = run.diagnosis
    ticket = SupportTicketFactory(merchant_id=alpha.pk, plugin=plugin_of(alpha), user=two_accounts_user)
    alpha_urls = [
        f"/checks/runs/{run.uuid}/",
        f"/checks/diagnoses/{diagnosis.uuid}/summary/",
        f"/checks/diagnoses/{diagnosis.uuid}/open/",
        f"/support/tickets/{ticket.reference}/",
        f"/account/plugins/{plugin_of(alpha).pk}/reauthorize/",
        f"/account/plugins/{plugin_of(alpha).pk}/demo-authorize/",
    ]

    switch(pat, beta)

    for url in alpha_urls:
        assert pat.get(url, **HTMX).status_code == 404, url
    assert pat.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "x"}, **HTMX).status_code == 404
    assert start_step_1(pat, article, plugin_of(alpha)).status_code == 404
    assert pat.post("/support/tickets/new/", {"diagnosis": str(diagnosis.uuid)}).status_code == 404
    assert (
        pat.post(f"/account/plugins/{plugin_of(alpha).pk}/demo-authorize/", {"allow": "1"}).status_code == 404
    )

    # And the other way round: Beta's own ids are a 404 once Alpha is chosen again.
    assert start_step_1(pat, article, plugin_of(beta)).status_code == 200
    beta_run = CheckRun.objects.get(merchant_id=beta.pk)
    switch(pat, alpha)
    assert pat.get(f"/checks/runs/{beta_run.uuid}/", **HTMX).status_code == 404
    assert pat.get(f"/checks/runs/{run.uuid}/", **HTMX).status_code == 200
    assert pat.get(f"/support/tickets/{ticket.reference}/").status_code == 200
    assert pat.get(f"/account/plugins/{plugin_of(alpha).pk}/demo-authorize/").status_code == 200


def test_a_diagnosis_started_in_one_account_is_not_shown_in_the_other(pat, article, alpha, beta):
    start_step_1(pat, article, plugin_of(alpha))
    assert 'data-check-status="passed"' in pat.get(article.url).content.decode()

    switch(pat, beta)

    html = pat.get(article.url).content.decode()
    assert 'data-check-status="passed"' not in html
    assert html.count('data-check-status="idle"') == 7
    form = pat.get(f"/support/tickets/form/?page={article.pk}", **HTMX).content.decode()
    assert "Alpha web store" not in form
    switch(pat, alpha)
    assert 'data-check-status="passed"' in pat.get(article.url).content.decode()


def test_checks_and_fixes_run_with_the_role_of_the_chosen_account(pat, article, beta):
    switch(pat, beta)  # staff there, not owner

    html = start_step_1(pat, article, plugin_of(beta)).content.decode()

    assert Diagnosis.objects.get().merchant_id == beta.pk
    assert "Only an owner of this account can apply “Turn on Import Orders”." in text(html)
    run = CheckRun.objects.get()
    refused = pat.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "turn_on_import_orders"}, **HTMX)
    assert "Only an owner of this account can apply this fix" in text(refused.content.decode())
    assert not plugin_of(beta).import_orders


def test_a_membership_removed_meanwhile_falls_back_to_another_account_then_none(
    pat, article, two_accounts_user, alpha, beta
):
    switch(pat, beta)
    Membership.objects.filter(user=two_accounts_user, merchant=beta).delete()

    html = pat.get(article.url).content.decode()

    assert panel_plugins(pat, article) == ["Alpha web store"]
    assert 'name="account"' not in html  # one account left: nothing to switch
    Membership.objects.filter(user=two_accounts_user).delete()
    html = pat.get(article.url).content.decode()
    assert "Your user is not part of a Commerce Kitty account" in html


def test_a_single_account_user_sees_no_switcher(client, article, alpha):
    user = UserFactory(username="solo")
    Membership.objects.create(user=user, merchant=alpha, role=Membership.Role.OWNER)
    client.force_login(user)

    html = client.get(article.url).content.decode()

    assert 'name="account"' not in html
    assert panel_plugins(client, article) == ["Alpha web store"]


def test_a_signed_out_reader_sees_no_switcher(client, article, two_accounts_user):
    html = client.get(article.url).content.decode()

    assert 'name="account"' not in html
    assert "Sign in to check your account" in html


def test_pages_tell_htmx_which_account_they_show(pat, article, alpha):
    html = pat.get(article.url).content.decode()

    assert f'"X-Kitty-Account": "{alpha.pk}"' in html


def test_a_page_left_open_on_the_other_account_reloads_instead_of_acting(pat, article, alpha, beta):
    # A tab still shows Alpha; in another, the user switched to Beta. The old tab's check must not
    # run (its plugin is Alpha's): the tab reloads, in Beta, and says why.
    switch(pat, beta)
    pat.get("/help/")  # the switch's own message has been shown

    response = pat.post(
        "/checks/start/",
        {"page": article.pk, "subject": plugin_of(alpha).pk, "block_id": article.steps[0].id},
        HTTP_X_KITTY_ACCOUNT=str(alpha.pk),
        **HTMX,
    )

    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    assert not CheckRun.objects.exists()
    html = pat.get(article.url).content.decode()
    assert "You switched to “Beta Crafts” (in another tab or window)" in text(html)
    assert panel_plugins(pat, article) == ["Beta market stall"]
    # A page that shows the current account acts as usual.
    same = pat.post(
        "/checks/start/",
        {"page": article.pk, "subject": plugin_of(beta).pk, "block_id": article.steps[0].id},
        HTTP_X_KITTY_ACCOUNT=str(beta.pk),
        **HTMX,
    )
    assert "HX-Refresh" not in same.headers and CheckRun.objects.count() == 1


def test_a_link_about_the_other_account_offers_to_switch_to_it(pat, article, two_accounts_user, alpha, beta):
    # As an e-mail or notification links to a ticket or a diagnosis: here, of Beta while Alpha is chosen.
    ticket = SupportTicketFactory(merchant_id=beta.pk, plugin=plugin_of(beta), user=two_accounts_user)
    link = f"/support/tickets/{ticket.reference}/"

    response = pat.get(link)

    assert response.status_code == 404
    page = text(response.content.decode())
    assert "This is in your account “Beta Crafts”" in page
    assert "You are working in “Alpha Goods” right now" in page
    assert ticket.order_number not in page
    back = pat.post("/account/switch/", {"account": beta.pk, "next": link})
    assert back.headers["Location"] == link
    assert ticket.order_number in text(pat.get(link).content.decode())


def test_a_link_to_someone_elses_account_says_nothing_about_it(pat):
    stranger = MerchantFactory(name="Someone Else")
    ticket = SupportTicketFactory(merchant_id=stranger.pk, plugin=PluginFactory(merchant=stranger))

    response = pat.get(f"/support/tickets/{ticket.reference}/")

    assert response.status_code == 404
    assert "Someone Else" not in response.content.decode()
    assert "We can't find that" in text(response.content.decode())


def test_an_authorization_finished_after_switching_accounts_changes_nothing_and_says_why(pat, alpha, beta):
    from urllib.parse import parse_qs, urlsplit

    from tests.commerce.test_reauthorize import woo_posts_keys

    woo = PluginFactory(
        merchant=alpha,
        platform="woocommerce",
        authorization_status="revoked",
        credentials={
            "site_url": "https://shop.example",
            "consumer_key": "ck_old",
            "consumer_secret": "cs_old",
        },
    )
    consent = pat.get(f"/account/plugins/{woo.pk}/reauthorize/?next=/help/").headers["Location"]
    state = parse_qs(urlsplit(consent).query)["user_id"][0]
    woo_posts_keys(state)
    switch(pat, beta)  # while on the platform's consent screen

    response = pat.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})

    assert response.status_code == 400
    assert "started in your account “Alpha Goods”, and you have switched accounts since" in text(
        response.content.decode()
    )
    woo.refresh_from_db()
    assert woo.credentials["consumer_key"] == "ck_old" and woo.authorization_status == "revoked"
