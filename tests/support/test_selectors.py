from datetime import date

from django.template.loader import render_to_string
from django.test import RequestFactory

from apps.checks.models import CheckRun
from apps.support.models import SupportTicket
from apps.support.selectors import diagnosis_transcript, open_ticket_for, ticket_form_context, ticket_initial

from .conftest import ORDER_NUMBER, PLUGIN_NAME
from .factories import CheckRunFactory, DiagnosisFactory, SupportTicketFactory


def test_ticket_initial_is_prefilled_from_the_diagnosis(diagnosis):
    initial = ticket_initial(diagnosis)

    assert initial["order_number"] == ORDER_NUMBER
    assert initial["platform"] == "Shopify"
    assert initial["plugin_label"] == PLUGIN_NAME
    # Not typed by the merchant: the date the order-age check learned from the platform.
    assert initial["placed_date"] == date(2025, 3, 2)
    # What the merchant tried is theirs to write; the checks go with the ticket as its transcript.
    assert "tried" not in initial
    assert [(e["step_number"], e["title"], e["status_label"]) for e in initial["transcript"]] == [
        (1, "Import Orders on?", "passed"),
        (3, "Placed after Import Orders was turned on?", "failed"),
        (6, "Paid and confirmed on the platform?", "couldn't check"),
    ]


def test_a_typed_placed_date_wins_over_the_platforms(diagnosis):
    diagnosis.inputs = {**diagnosis.inputs, "placed_date": "2025-03-01"}
    diagnosis.save()

    assert ticket_initial(diagnosis)["placed_date"] == date(2025, 3, 1)


def test_a_fix_stays_in_the_transcript_after_the_step_is_checked_again(diagnosis):
    CheckRunFactory(diagnosis=diagnosis, step_number=1, summary=f"Import Orders is on for “{PLUGIN_NAME}”.")

    step_1 = diagnosis_transcript(diagnosis)[0]

    assert step_1["step_number"] == 1
    assert [fix["result"] for fix in step_1["fixes_applied"]] == [
        f"Turned on Import Orders for “{PLUGIN_NAME}”."
    ]


def test_a_run_that_never_finished_is_sent_as_couldnt_finish(plugin, owner):
    diagnosis = DiagnosisFactory(plugin=plugin, user=owner)
    run = CheckRunFactory(diagnosis=diagnosis, status=CheckRun.State.RUNNING, summary="", finished_at=None)
    CheckRun.objects.filter(pk=run.pk).update(deadline=run.queued_at)

    assert ticket_initial(diagnosis)["transcript"][0]["status_label"] == "couldn't finish"


def test_a_diagnosis_without_runs_has_no_transcript(plugin, owner):
    diagnosis = DiagnosisFactory(plugin=plugin, user=owner)

    assert ticket_initial(diagnosis)["transcript"] == []
    assert diagnosis_transcript(diagnosis) == []


def test_open_ticket_for_ignores_closed_tickets_and_other_orders(plugin):
    SupportTicketFactory(plugin=plugin, order_number="1", status=SupportTicket.Status.CLOSED)
    SupportTicketFactory(plugin=plugin, order_number="2")
    open_one = SupportTicketFactory(plugin=plugin, order_number="1")

    assert open_ticket_for(plugin.merchant_id, plugin.pk, "1") == open_one
    assert open_ticket_for(plugin.merchant_id, plugin.pk, "3") is None


def test_the_form_arrives_prefilled_from_the_diagnosis(diagnosis, owner):
    request = RequestFactory().get("/help/order-did-not-import/")
    request.user = owner

    html = render_to_string(
        "support/ticket_form.html",
        {**ticket_form_context(diagnosis), "page": diagnosis.page},
        request=request,
    )

    assert 'id="support-ticket"' in html
    assert f'name="diagnosis" value="{diagnosis.uuid}"' in html
    assert f'name="page_revision" value="{diagnosis.page.live_revision_id}"' in html
    assert f'value="{ORDER_NUMBER}"' in html
    assert 'value="2025-03-02"' in html
    assert 'value="Shopify"' in html
    assert f'value="{PLUGIN_NAME}"' in html
    assert "<strong>Step 1: Import Orders on?</strong>" in html  # among the checks that go with it
    assert "Applied fix: Turned on Import Orders for “Etsy Shop”." in html
    assert "Send to support" in html
    assert "csrfmiddlewaretoken" in html


def test_the_form_says_when_a_ticket_is_already_open_for_the_order(diagnosis, owner):
    ticket = SupportTicketFactory(
        merchant_id=diagnosis.merchant_id, plugin_id=diagnosis.subject_id, order_number=ORDER_NUMBER
    )
    request = RequestFactory().get("/")
    request.user = owner

    html = render_to_string("support/ticket_form.html", ticket_form_context(diagnosis), request=request)

    assert f"You already have an open ticket for order #{ORDER_NUMBER}" in html
    assert f"/support/tickets/{ticket.reference}/" in html
    assert "Send to support" not in html


def test_without_a_diagnosis_the_form_asks_to_run_the_checks_first(owner):
    request = RequestFactory().get("/")
    request.user = owner

    html = render_to_string("support/ticket_form.html", ticket_form_context(None), request=request)

    assert "run the checks" in html
    assert "<form" not in html
