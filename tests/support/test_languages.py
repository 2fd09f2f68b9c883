"""A ticket in every reader's language: the merchant's is recorded, support reads it in its own.

The merchant writes from their language (their saved choice); the e-mail to support
is in SUPPORT_LANGUAGE, and an agent reads the checks' verdicts and evidence in
the agent's own language, because the ticket keeps them as messages.
"""

import pytest
from django.urls import reverse
from django.utils import translation

from apps.checks.models import CheckRun
from apps.languages.services import language_preference_set
from apps.support.models import SupportTicket
from apps.support.services import ticket_create
from kitty_troubleshoot.said import said
from tests.factories import UserFactory
from tests.html import text

from .conftest import ORDER_NUMBER
from .factories import CheckRunFactory, DiagnosisFactory
from .test_views import HTMX, NEW_TICKET_URL, ticket_post


@pytest.fixture
def pages_in(owner):
    """Pages without a language prefix read in ``language``: the merchant's saved choice."""

    def speak(language: str):
        language_preference_set(user=owner, language=language)

    return speak


@pytest.fixture
def german_merchant(owner):
    language_preference_set(user=owner, language="de")
    return owner


def test_a_german_merchant_sends_from_an_english_page_and_support_reads_it_in_english(
    german_merchant, owner_client, diagnosis, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        # As htmx sends it: the English article the form is on.
        response = owner_client.post(
            NEW_TICKET_URL, ticket_post(diagnosis), **HTMX, HTTP_HX_CURRENT_URL="http://testserver/help/x/"
        )

    ticket = SupportTicket.objects.get()
    assert ticket.language == "de"
    assert "Sent to support" in response.content.decode()  # the page they sent it from is English
    (email,) = mailoutbox
    assert email.subject == f"[{ticket.reference}] Order #{ORDER_NUMBER} did not import via Etsy Shop"
    assert "A merchant says an order did not import, after running the checks." in email.body
    assert "Language:      German" in email.body
    assert "Step 3 (Placed after Import Orders was turned on?): FAILED" in email.body
    for german in ("Bestellung", "Schritt", "Händler", "FEHLGESCHLAGEN"):
        assert german not in email.body


def test_support_set_to_german_reads_the_ticket_e_mail_in_german(
    owner_client, diagnosis, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.SUPPORT_LANGUAGE = "de"

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    ticket = SupportTicket.objects.get()
    assert ticket.language == "en"
    (email,) = mailoutbox
    assert (
        email.subject
        == f"[{ticket.reference}] Bestellung #{ORDER_NUMBER} wurde über Etsy Shop nicht importiert"
    )
    assert "Ein Händler meldet nach den Prüfungen, dass eine Bestellung nicht importiert wurde." in email.body
    assert "Sprache:      Englisch" in email.body
    assert "): FEHLGESCHLAGEN" in email.body
    assert "Korrektur angewendet von olive am " in email.body
    assert "A merchant says" not in email.body


def test_without_a_saved_language_the_ticket_takes_the_language_of_the_article_it_was_sent_from(
    owner_client, diagnosis
):
    owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, language="fr"), **HTMX)

    assert SupportTicket.objects.get().language == "fr"


@pytest.fixture
def german_ticket(article, plugin, german_merchant):
    """A ticket sent from a German page: its verdicts and evidence are messages, not German text."""
    article.refresh_from_db()
    diagnosis = DiagnosisFactory(plugin=plugin, user=german_merchant, page=article, order_number=ORDER_NUMBER)
    CheckRunFactory(
        diagnosis=diagnosis,
        step_number=2,
        check_key="plugin_authorized",
        status=CheckRun.State.FAILED,
        **CheckRun.verdict_fields(
            said("That plugin is no longer in your account."),
            [said("Order #%(number)s is already in Commerce Kitty.", number=ORDER_NUMBER)],
        ),
    )
    with translation.override("de"):
        ticket, _ = ticket_create(
            diagnosis=diagnosis,
            user=german_merchant,
            cleaned_data={"order_number": ORDER_NUMBER, "tried": "Neu gestartet."},
            language="de",
        )
    return SupportTicket.objects.get(pk=ticket.pk)


@pytest.fixture
def agent_client(client, db):
    client.force_login(UserFactory(username="agent", is_staff=True, is_superuser=True))
    return client


def test_an_english_agent_reads_a_german_merchants_transcript_in_english(german_ticket, agent_client):
    page = text(
        agent_client.get(
            reverse("admin:support_supportticket_change", args=[german_ticket.pk])
        ).content.decode()
    )

    assert "That plugin is no longer in your account." in page
    assert "Order #1042 is already in Commerce Kitty." in page
    assert "failed" in page
    assert "German (Deutsch)" in page  # the merchant's language
    assert "Dieses Plugin ist nicht mehr in Ihrem Konto." not in page
    # Stored in English for searching, whichever language it was sent from.
    assert german_ticket.transcript[0]["summary"] == "That plugin is no longer in your account."


def test_a_german_agent_reads_the_same_transcript_in_german(german_ticket, agent_client):
    # The agent's own saved choice (the client's user), not the merchant's.
    language_preference_set(user=agent_client.get("/admin/").wsgi_request.user, language="de")

    page = text(
        agent_client.get(
            reverse("admin:support_supportticket_change", args=[german_ticket.pk])
        ).content.decode()
    )

    assert "Dieses Plugin ist nicht mehr in Ihrem Konto." in page
    assert "Bestellung #1042 ist bereits in Commerce Kitty." in page
    assert "fehlgeschlagen" in page
    assert "Sprache des Händlers" in page
    assert "That plugin is no longer in your account." not in page


def test_the_merchant_reads_their_ticket_in_the_language_of_the_page(german_ticket, owner_client, pages_in):
    url = reverse("support:ticket_detail", args=[german_ticket.reference])
    pages_in("en")
    english = text(owner_client.get(url).content.decode())
    pages_in("de")
    german = text(owner_client.get(url).content.decode())

    assert "Step 2: " in english and "That plugin is no longer in your account." in english
    assert "Written in Deutsch" in english
    assert "Was gesendet wurde" in german and "Schritt 2: " in german
    assert "Dieses Plugin ist nicht mehr in Ihrem Konto." in german
    for english_sentence in ("What was sent", "The checks that went with it", "That plugin is no longer"):
        assert english_sentence not in german


def test_a_form_error_reads_in_the_language_of_the_page(owner_client, diagnosis, pages_in):
    pages_in("fr")

    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, tried="x" * 10_001), **HTMX)

    html = text(response.content.decode())
    assert "Restez en dessous de 10 000 caractères." in html
    assert "Keep this under" not in html
    assert not SupportTicket.objects.exists()


def test_the_confirmation_speaks_the_language_of_the_article_it_was_sent_from(
    german_merchant, owner_client, diagnosis
):
    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, language="de"), **HTMX)

    html = text(response.content.decode())
    ticket = SupportTicket.objects.get()
    assert "An den Support gesendet" in html
    assert f"Ihre Referenz ist {ticket.reference}" in html and f"für Bestellung #{ORDER_NUMBER}." in html
    assert "Sent to support" not in html
