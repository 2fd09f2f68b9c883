"""A support agent re-runs a ticket's diagnosis from Django admin: it looks at the account now, and only looks."""

import re
from html import unescape

import pytest
from django.test import Client

from apps.checks.base import InputError
from apps.checks.models import CheckRun, Diagnosis
from apps.checks.registry import account_directory
from apps.checks.services.fixes import check_fix_request
from apps.checks.services.starting import diagnosis_for
from apps.commerce.models import Plugin
from apps.support.models import SupportTicket
from tests.checks.conftest import plugin_named
from tests.html import text

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def agent(demo):
    client = Client()
    assert client.login(username="agent", password="kitty-agent")
    return client


def ticket_for_outlet(merchant_client, page) -> SupportTicket:
    """The merchant checks #2001 on Outlet (Import Orders off) and opens a ticket with that diagnosis."""
    outlet = plugin_named("Outlet")
    merchant_client.post(
        "/checks/start/",
        {"page": page.pk, "subject": outlet.pk, "order_number": "2001", "all": "1"},
        **HTMX,
    )
    diagnosis = Diagnosis.objects.get(reference="2001")
    merchant_client.post(
        "/support/tickets/new/",
        {
            "diagnosis": str(diagnosis.uuid),
            "page_revision": str(page.live_revision_id),
            "order_number": "2001",
            "tried": "Every step of the article.",
        },
        **HTMX,
    )
    return SupportTicket.objects.get(order_number="2001")


def recheck(agent, ticket):
    return agent.post(f"/django-admin/support/supportticket/{ticket.pk}/recheck/", follow=True)


def test_an_agent_sees_the_account_as_it_is_now_beside_what_the_merchant_saw(merchant_client, agent, page):
    ticket = ticket_for_outlet(merchant_client, page)
    # Since the ticket, someone turned Import Orders on.
    Plugin.objects.filter(name__contains="Outlet").update(import_orders=True)

    change = agent.get(f"/django-admin/support/supportticket/{ticket.pk}/change/").content.decode()
    assert "Check every step now (read-only)" in change
    assert "Not re-checked yet" in text(change)

    html = text(recheck(agent, ticket).content.decode())

    assert "Checking every step again for order #2001, without changing anything." in html
    assert re.search(r"Checked again by agent on \w{3} \d+, \d{4} \d\d:\d\d \w+ \(read-only\)", html)
    # The merchant's transcript still says what they saw; the re-check what holds now.
    assert any("Import Orders is off" in entry["summary"] for entry in ticket.transcript)
    recheck_part = html[html.index("Checked again by agent") :]
    assert "Import Orders is on" in recheck_part
    assert "Import Orders is off" not in recheck_part
    diagnosis = ticket.rechecks.get()
    assert diagnosis.read_only and diagnosis.user.username == "agent"
    assert diagnosis.runs.count() == 8  # "already in Commerce Kitty?" and the 7 steps


def test_a_recheck_changes_nothing_on_the_account_and_no_fix_can_be_applied_from_it(
    merchant_client, agent, page
):
    ticket = ticket_for_outlet(merchant_client, page)
    fields = ["import_orders", "authorization_status", "authorization_checked_at", "rate_limited_until"]
    before = list(Plugin.objects.order_by("pk").values(*fields))

    recheck(agent, ticket)

    assert list(Plugin.objects.order_by("pk").values(*fields)) == before
    run = CheckRun.objects.get(diagnosis__read_only=True, check_key="import_orders_enabled")
    assert run.status == "failed" and run.fixes_offered  # what the merchant could do, shown as such
    owner = run.diagnosis.rechecked_tickets.get().user
    with pytest.raises(InputError, match="no fix can be applied from it"):
        check_fix_request(run=run, user=owner, fix_key="turn_on_import_orders")
    assert not Plugin.objects.get(name__contains="Outlet").import_orders


def test_the_merchant_never_lands_in_the_agents_recheck(merchant_client, agent, page):
    ticket = ticket_for_outlet(merchant_client, page)
    recheck(agent, ticket)
    merchant = SupportTicket.objects.get(pk=ticket.pk).user

    own = diagnosis_for(
        account=account_directory().membership_for(merchant),
        user=merchant,
        page=page,
        subject_id=ticket.plugin_id,
        values={"order_number": "2001", "placed_date": None},
    )

    assert own == ticket.diagnosis and not own.read_only


def test_a_recheck_says_why_it_cannot_run_and_is_post_only(merchant_client, agent, page):
    ticket = ticket_for_outlet(merchant_client, page)
    Plugin.objects.filter(pk=ticket.plugin_id).delete()

    html = text(recheck(agent, ticket).content.decode())

    assert "Couldn't check again: The ticket's plugin is no longer in the merchant's account." in html
    assert not Diagnosis.objects.filter(read_only=True).exists()
    assert agent.get(f"/django-admin/support/supportticket/{ticket.pk}/recheck/").status_code == 405


def test_tickets_are_found_by_merchant_name_and_show_it(merchant_client, agent, page):
    ticket = ticket_for_outlet(merchant_client, page)
    name = Plugin.objects.get(pk=ticket.plugin_id).merchant.name

    listing = agent.get("/django-admin/support/supportticket/", {"q": name.split()[0]}).content.decode()

    assert ticket.reference in listing
    assert name in unescape(listing)
    assert "No tickets" not in listing


def test_editors_cannot_recheck_or_read_tickets(merchant_client, page):
    ticket = ticket_for_outlet(merchant_client, page)
    editor = Client()
    editor.login(username="editor", password="kitty-editor")

    response = editor.post(f"/django-admin/support/supportticket/{ticket.pk}/recheck/")

    assert response.status_code == 302 and "/django-admin/login/" in response.headers["Location"]
    assert not Diagnosis.objects.filter(read_only=True).exists()
