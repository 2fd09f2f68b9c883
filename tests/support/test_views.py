import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.support.models import SupportTicket

from .conftest import ORDER_NUMBER, PLUGIN_NAME
from .factories import SupportTicketFactory

NEW_TICKET_URL = "/support/tickets/new/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def ticket_post(for_diagnosis, /, **overrides):
    data = {
        "diagnosis": str(for_diagnosis.uuid),
        "page_revision": str(for_diagnosis.page.live_revision_id),
        "order_number": ORDER_NUMBER,
        "placed_date": "2025-03-02",
        "tried": "Restarted the store.",
        "message": "The buyer is waiting for a refund.",
    }
    data.update(overrides)
    return data


def test_submitting_creates_one_ticket_and_emails_support(
    owner_client, diagnosis, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    assert response.status_code == 200
    ticket = SupportTicket.objects.get()
    assert ticket.reference in response.content.decode()
    assert "Sent to support" in response.content.decode()
    assert ticket.diagnosis == diagnosis
    assert ticket.page_revision_id == diagnosis.page.live_revision_id
    assert (ticket.order_number, ticket.platform, ticket.plugin_label, ticket.plugin_id) == (
        ORDER_NUMBER,
        "Shopify",
        PLUGIN_NAME,
        diagnosis.subject_id,
    )
    assert [entry["step_number"] for entry in ticket.transcript] == [1, 3, 6]
    assert ticket.transcript[0]["fixes_applied"][0]["key"] == "turn_on_import_orders"
    assert ticket.emailed_at is not None

    (email,) = mailoutbox
    assert email.to == [settings.SUPPORT_EMAIL]
    assert ticket.reference in email.subject
    assert f"#{ORDER_NUMBER}" in email.subject
    assert email.reply_to == ["olive@kittygoods.example"]
    assert "Restarted the store." in email.body
    assert "The buyer is waiting for a refund." in email.body
    assert "Step 3 (Placed after Import Orders was turned on?): FAILED" in email.body
    assert "Placed date from the platform." in email.body
    assert "Applied fix by olive" in email.body


def test_a_second_submit_for_the_same_open_order_links_to_the_first(
    owner_client, teammate, diagnosis, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)
    first = SupportTicket.objects.get()
    teammate_client = Client()
    teammate_client.force_login(teammate)

    with django_capture_on_commit_callbacks(execute=True):
        response = teammate_client.post(NEW_TICKET_URL, ticket_post(diagnosis, order_number="#1042"), **HTMX)

    assert SupportTicket.objects.count() == 1
    assert len(mailoutbox) == 1
    html = response.content.decode()
    assert f"You already have an open ticket for order #{ORDER_NUMBER}" in html
    assert first.reference in html
    assert reverse("support:ticket_detail", args=[first.reference]) in html


def test_after_the_ticket_is_closed_the_order_can_be_sent_again(owner_client, diagnosis):
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)
    SupportTicket.objects.update(status=SupportTicket.Status.CLOSED)

    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    assert SupportTicket.objects.filter(status=SupportTicket.Status.OPEN).count() == 1
    assert SupportTicket.objects.count() == 2


def test_without_javascript_a_post_redirects_to_the_confirmation_page(owner_client, diagnosis):
    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis))

    ticket = SupportTicket.objects.get()
    assert response.status_code == 303
    assert response["Location"] == f"/support/tickets/{ticket.reference}/"
    page = owner_client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert ticket.reference in html
    assert f"#{ORDER_NUMBER}" in html
    assert "Restarted the store." in html
    assert f"Import Orders is on for “{PLUGIN_NAME}”." in html
    assert "Applied fix: Turned on Import Orders" in html


def test_without_javascript_a_second_submit_says_the_ticket_already_exists(owner_client, diagnosis):
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis))

    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), follow=True)

    ticket = SupportTicket.objects.get()
    assert response.redirect_chain == [(f"/support/tickets/{ticket.reference}/", 303)]
    assert f"You already have an open ticket for order #{ORDER_NUMBER}: {ticket.reference}" in (
        response.content.decode()
    )


def test_a_teammate_sees_the_ticket(client, teammate, diagnosis):
    ticket = SupportTicketFactory(merchant_id=diagnosis.merchant_id)
    client.force_login(teammate)

    response = client.get(f"/support/tickets/{ticket.reference.lower()}/")

    assert response.status_code == 200
    assert ticket.reference in response.content.decode()


def test_someone_elses_diagnosis_is_not_found(client, outsider, diagnosis):
    client.force_login(outsider)

    response = client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    assert response.status_code == 404
    assert not SupportTicket.objects.exists()


def test_someone_elses_ticket_is_not_found(client, outsider, diagnosis):
    ticket = SupportTicketFactory(merchant_id=diagnosis.merchant_id)
    client.force_login(outsider)

    assert client.get(f"/support/tickets/{ticket.reference}/").status_code == 404


def test_a_user_without_an_account_gets_not_found(client, diagnosis):
    from tests.factories import UserFactory

    client.force_login(UserFactory())

    assert client.post(NEW_TICKET_URL, ticket_post(diagnosis)).status_code == 404


@pytest.mark.parametrize("method, url", [("post", NEW_TICKET_URL), ("get", "/support/tickets/CK-ABCDEF/")])
def test_anonymous_visitors_are_sent_to_sign_in(client, diagnosis, method, url):
    response = getattr(client, method)(url, ticket_post(diagnosis) if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not SupportTicket.objects.exists()


def test_a_post_without_csrf_token_is_refused(owner, diagnosis):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    assert response.status_code == 403
    assert not SupportTicket.objects.exists()


def test_the_form_only_accepts_posts(owner_client):
    assert owner_client.get(NEW_TICKET_URL).status_code == 405


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("order_number", "9" * 500, "An order number has at most 64 characters."),
        ("order_number", "10 42; DROP", "An order number has only letters, digits"),
        ("order_number", "", "Type the order number from the source platform."),
        ("order_number", "#", "Type the order number after the #."),
        ("order_number", "2077", "These checks were about order #1042. To ask about order #2077"),
        ("placed_date", "02/03/2025", "Give the date the order was placed as YYYY-MM-DD."),
        ("placed_date", "2025-02-30", "Give the date the order was placed as YYYY-MM-DD."),
        ("placed_date", "2999-01-01", "cannot be in the future"),
        ("tried", "", "Tell us what you have already tried"),
        ("tried", "x" * 10_001, "Keep this under 10,000 characters."),
        ("message", "x" * 5_001, "Keep this under 5,000 characters."),
    ],
)
def test_garbage_input_is_explained_inline(owner_client, diagnosis, field, value, message):
    htmx = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, **{field: value}), **HTMX)
    plain = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, **{field: value}))

    # htmx swaps only 2xx answers, so the form with its errors comes back as 200.
    assert htmx.status_code == 200
    assert plain.status_code == 400
    for response in (htmx, plain):
        html = response.content.decode()
        assert message in html
        assert 'aria-invalid="true"' in html
        assert 'id="support-ticket"' in html
    assert "<html" in plain.content.decode()
    assert "<html" not in htmx.content.decode()
    assert not SupportTicket.objects.exists()


def test_what_the_merchant_typed_survives_an_error(owner_client, diagnosis):
    response = owner_client.post(
        NEW_TICKET_URL, ticket_post(diagnosis, placed_date="yesterday", tried="Turned it off and on."), **HTMX
    )

    html = response.content.decode()
    assert "Turned it off and on." in html
    assert 'value="yesterday"' in html
    assert f'value="{PLUGIN_NAME}"' in html


@pytest.mark.parametrize("diagnosis_value", ["not-a-uuid", "", "1' OR '1'='1", "x" * 500])
def test_a_garbled_diagnosis_is_explained_and_creates_nothing(owner_client, diagnosis, diagnosis_value):
    plain = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, diagnosis=diagnosis_value))
    htmx = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, diagnosis=diagnosis_value), **HTMX)

    assert plain.status_code == 400
    assert htmx.status_code == 200
    for response in (plain, htmx):
        assert "We could not tell which checks this ticket is about." in response.content.decode()
    assert not SupportTicket.objects.exists()


def test_an_unknown_diagnosis_is_not_found(owner_client, diagnosis):
    data = ticket_post(diagnosis, diagnosis="00000000-0000-0000-0000-000000000000")

    assert owner_client.post(NEW_TICKET_URL, data).status_code == 404


def test_a_forged_page_revision_falls_back_to_the_articles_live_revision(owner_client, diagnosis):
    from wagtail.models import Revision

    other_revision = Revision.objects.exclude(object_id=str(diagnosis.page_id)).first()

    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, page_revision=str(other_revision.pk)))
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, order_number="77", page_revision="garbage"))

    revisions = set(SupportTicket.objects.values_list("page_revision_id", flat=True))
    assert revisions == {diagnosis.page.live_revision_id}


@pytest.mark.parametrize("revision", ["²", "١٢", "9" * 40, "-3", "abc"])
def test_a_garbled_page_revision_is_ignored(owner_client, diagnosis, revision):
    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, page_revision=revision), **HTMX)

    assert response.status_code == 200
    assert SupportTicket.objects.get().page_revision_id == diagnosis.page.live_revision_id


def test_an_unknown_ticket_reference_is_not_found(owner_client):
    assert owner_client.get("/support/tickets/CK-NOPE42/").status_code == 404


def test_the_confirmation_page_costs_a_few_queries(owner_client, diagnosis, django_assert_max_num_queries):
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis))
    ticket = SupportTicket.objects.get()

    with django_assert_max_num_queries(12):
        assert owner_client.get(f"/support/tickets/{ticket.reference}/").status_code == 200


# The "Still missing?" section fetches itself again when a check ends on the article.
FORM_URL = "/support/tickets/form/"


def remember_diagnosis(client, diagnosis):
    """What starting a check does: the article remembers the reader's diagnosis in the session."""
    from apps.checks.selectors.viewers import SESSION_KEY

    session = client.session
    session[SESSION_KEY.format(page_id=diagnosis.page_id)] = str(diagnosis.uuid)
    session.save()


def test_the_refreshed_section_is_the_form_for_the_articles_diagnosis(owner_client, diagnosis):
    remember_diagnosis(owner_client, diagnosis)

    response = owner_client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-ticket-state="form"' in body
    assert f'value="{ORDER_NUMBER}"' in body
    assert "Step 3: Placed after Import Orders was turned on?" in body  # the checks that go with it
    assert f'name="page_revision" value="{diagnosis.page.live_revision_id}"' in body
    assert "checks-finished" in body  # and keeps listening for the next check


def test_what_the_merchant_tried_is_left_for_them_and_the_checks_are_listed_apart(owner_client, diagnosis):
    remember_diagnosis(owner_client, diagnosis)

    body = owner_client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX).content.decode()

    tried = re.search(r'<textarea name="tried"[^>]*>(.*?)</textarea>', body, re.S)
    assert tried and tried.group(1).strip() == ""
    assert 'placeholder="For example: turned Import Orders off and on' in body
    checks = re.search(r'<ul class="support-ticket__checks"[^>]*>(.*?)</ul>', body, re.S).group(1)
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", checks)).split())
    assert words == (
        "Step 1: Import Orders on? passed Applied fix: Turned on Import Orders for “Etsy Shop”. "
        "Step 3: Placed after Import Orders was turned on? failed "
        "Step 6: Paid and confirmed on the platform? couldn't check"
    )


def test_the_ticket_keeps_what_the_merchant_wrote_and_the_checks_apart(owner_client, diagnosis):
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, tried="Turned it off and on."), **HTMX)

    ticket = SupportTicket.objects.get()
    assert ticket.tried == "Turned it off and on."
    assert [entry["step_number"] for entry in ticket.transcript] == [1, 3, 6]


def test_before_any_check_the_refreshed_section_asks_for_one(owner_client, diagnosis):
    response = owner_client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX)

    assert 'data-ticket-state="no-diagnosis"' in response.content.decode()
    assert "Choose your plugin and type the order number" in response.content.decode()


def test_the_refreshed_section_links_an_open_ticket_instead_of_a_second_form(owner_client, diagnosis):
    ticket = SupportTicketFactory(
        merchant_id=diagnosis.merchant_id, plugin_id=diagnosis.subject_id, order_number=ORDER_NUMBER
    )
    remember_diagnosis(owner_client, diagnosis)

    response = owner_client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX)

    assert 'data-ticket-state="exists"' in response.content.decode()
    assert ticket.reference in response.content.decode()


def test_someone_elses_diagnosis_in_the_session_shows_no_form(client, outsider, diagnosis):
    client.force_login(outsider)
    remember_diagnosis(client, diagnosis)

    response = client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX)

    assert 'data-ticket-state="no-diagnosis"' in response.content.decode()
    assert ORDER_NUMBER not in response.content.decode()


@pytest.mark.parametrize("page_value", ["", "abc", "99999", "1; DROP TABLE", "-1"])
def test_the_refreshed_section_of_no_article_is_not_found(owner_client, diagnosis, page_value):
    assert owner_client.get(FORM_URL, {"page": page_value}, **HTMX).status_code == 404


def test_without_htmx_the_section_url_leads_back_to_the_article(owner_client, diagnosis):
    response = owner_client.get(FORM_URL, {"page": diagnosis.page_id})

    assert response.status_code == 302
    assert response["Location"] == f"{diagnosis.page.url}#still-missing"


def test_an_order_that_did_import_folds_the_form_away_behind_the_reason(owner_client, diagnosis):
    from .factories import CheckRunFactory

    CheckRunFactory(
        diagnosis=diagnosis,
        block_id="already-here",
        step_number=None,
        check_key="order_already_imported",
        summary=f"Order #{ORDER_NUMBER} is already in Commerce Kitty.",
    )
    remember_diagnosis(owner_client, diagnosis)

    body = owner_client.get(FORM_URL, {"page": diagnosis.page_id}, **HTMX).content.decode()

    assert f"Order #{ORDER_NUMBER} is already in Commerce Kitty. There is nothing missing to report." in body
    assert "<summary>Send to support anyway</summary>" in body


def test_a_form_the_merchant_typed_into_is_left_alone_when_its_checks_go_on(owner_client, diagnosis):
    remember_diagnosis(owner_client, diagnosis)

    response = owner_client.get(
        FORM_URL, {"page": diagnosis.page_id, "shown": str(diagnosis.uuid), "edited": "1"}, **HTMX
    )

    assert response.status_code == 204  # htmx swaps nothing: what they typed stays


def test_a_typed_into_form_for_older_checks_offers_the_newer_ones(owner_client, diagnosis, plugin, owner):
    from .factories import DiagnosisFactory

    newer = DiagnosisFactory(plugin=plugin, user=owner, page=diagnosis.page, order_number="2077")
    remember_diagnosis(owner_client, newer)

    response = owner_client.get(
        FORM_URL, {"page": diagnosis.page_id, "shown": str(diagnosis.uuid), "edited": "1"}, **HTMX
    )

    body = response.content.decode()
    assert response["HX-Reswap"] == "none"  # the typed form stays; only the note arrives
    assert 'id="support-ticket-newer" hx-swap-oob="true"' in body
    assert "You have since checked order #2077" in body
    assert "Use the newer checks" in body


def test_a_form_sent_back_with_errors_keeps_following_the_checks(owner_client, diagnosis):
    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, tried=""), **HTMX)

    body = response.content.decode()
    assert "checks-finished" in body
    assert '<input type="hidden" name="edited" value="1">' in body
