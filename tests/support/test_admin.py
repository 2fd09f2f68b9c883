import pytest
from django.urls import reverse

from apps.support.models import SupportTicket
from tests.factories import UserFactory

from .factories import SupportTicketFactory

TRANSCRIPT = [
    {
        "step_number": 1,
        "check_key": "import_orders_enabled",
        "title": "Import Orders on?",
        "status": "passed",
        "status_label": "passed",
        "summary": "Import Orders is on for “<b>Shop</b>”.",
        "evidence": ["Turned on at 10:00."],
        "fixes_applied": [
            {"key": "turn_on_import_orders", "by": "olive", "result": "Turned on Import Orders."}
        ],
    },
    {
        "step_number": 3,
        "title": "Placed after Import Orders was turned on?",
        "status": "failed",
        "status_label": "failed",
        "summary": "Order #1042 was placed before Import Orders was turned on.",
        "evidence": [],
        "fixes_applied": [],
    },
]


@pytest.fixture
def agent_client(client, db):
    client.force_login(UserFactory(username="agent", is_staff=True, is_superuser=True))
    return client


def change_url(ticket):
    return reverse("admin:support_supportticket_change", args=[ticket.pk])


def test_the_admin_lists_and_finds_tickets(agent_client):
    ticket = SupportTicketFactory(order_number="1042")
    SupportTicketFactory(order_number="9999")

    response = agent_client.get(reverse("admin:support_supportticket_changelist"), {"q": "1042"})

    html = response.content.decode()
    assert response.status_code == 200
    assert ticket.reference in html
    assert "9999" not in html


def test_the_admin_shows_the_transcript_readably_and_escaped(agent_client):
    ticket = SupportTicketFactory(transcript=TRANSCRIPT)

    html = agent_client.get(change_url(ticket)).content.decode()

    assert "Step 1 (Import Orders on?)" in html
    assert "Step 3 (Placed after Import Orders was turned on?)" in html
    assert "Turned on at 10:00." in html
    assert "Applied fix by olive: Turned on Import Orders." in html
    assert "&lt;b&gt;Shop&lt;/b&gt;" in html
    assert "<b>Shop</b>" not in html


def test_an_agent_closes_a_ticket_and_changes_nothing_else(agent_client):
    ticket = SupportTicketFactory(order_number="1042", tried="Everything.")

    response = agent_client.post(
        change_url(ticket), {"status": "closed", "order_number": "666", "tried": "x"}
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.CLOSED
    assert (ticket.order_number, ticket.tried) == ("1042", "Everything.")


def test_reopening_a_ticket_while_another_is_open_for_the_order_is_explained(agent_client, plugin):
    closed = SupportTicketFactory(plugin=plugin, order_number="1042", status=SupportTicket.Status.CLOSED)
    newer = SupportTicketFactory(plugin=plugin, order_number="1042")

    response = agent_client.post(change_url(closed), {"status": "open"})

    assert response.status_code == 200
    assert f"Ticket {newer.reference} is already open for this order" in response.content.decode()
    closed.refresh_from_db()
    assert closed.status == SupportTicket.Status.CLOSED


def test_agents_cannot_add_tickets_by_hand(agent_client):
    assert agent_client.get(reverse("admin:support_supportticket_add")).status_code == 403


def page_text(html: str) -> str:
    import html as html_lib
    import re

    html = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", "", html)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_an_agent_reads_the_ticket_in_words_once(agent_client, diagnosis):
    from apps.support.selectors import diagnosis_transcript

    ticket = SupportTicketFactory(
        merchant_id=diagnosis.merchant_id,
        plugin_id=diagnosis.subject_id,
        plugin_label=diagnosis.subject_label,
        diagnosis=diagnosis,
        page=diagnosis.page,
        page_revision=diagnosis.page.live_revision,
        tried="Turned Import Orders off and on again.",
        transcript=diagnosis_transcript(diagnosis),
    )

    html = agent_client.get(change_url(ticket)).content.decode()
    text = page_text(html)

    assert "Turned Import Orders off and on again." in text  # what the merchant tried, in their words
    assert text.count("Step 3 (Placed after Import Orders was turned on?)") == 1  # one transcript
    assert "Step 6 (Paid and confirmed on the platform?) couldn't check" in text
    assert f"Saved {text.split('Saved ', 1)[1][:4]}" in text and " by " in text  # the revision, in words
    assert '{"' not in text and "[{" not in text
    assert "Plugin id" not in text
    for raw in ("import_orders_enabled", "order_age", str(diagnosis.uuid), "block-1"):
        assert raw not in text
    assert (
        'style="' not in html.split('id="content"')[1]
    )  # the CSP allows no inline style: a stylesheet does it


def test_the_recheck_button_looks_like_the_other_admin_tools(agent_client):
    ticket = SupportTicketFactory()

    html = agent_client.get(change_url(ticket)).content.decode()

    tools = html.split('class="object-tools"')[1].split("</ul>")[0]
    assert 'class="recheck-form"' in tools
    assert "Check every step now (read-only)" in tools
    assert "css/admin_transcript.css" in html
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/admin_transcript.css")).read_text()
    assert ".object-tools .recheck-form button" in css
    assert "var(--object-tools-bg)" in css
