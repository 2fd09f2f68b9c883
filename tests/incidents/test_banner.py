"""Merchants read a confirmed incident on the step it affects, and on the ticket form."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.checks.models import Diagnosis
from apps.checks.selectors.viewers import SESSION_KEY
from apps.commerce.models import Plugin
from apps.incidents.models import Incident
from apps.incidents.services import incident_confirm, incident_dismiss, incidents_evaluate
from tests.factories import UserFactory, order_inputs
from tests.html import text
from tests.incidents.factories import runs_on, stores

WORDING = "Many Demo marketplace stores can't be reached right now — this is on the platform's side."
AUTHORIZED_STEP = 5  # the seed article's "Plugin authorized?" step


@pytest.fixture
def merchant_client(client, demo):
    assert client.login(username="merchant", password="kitty-merchant")
    return client


def choose_plugin(client, article, plugin: Plugin) -> Diagnosis:
    """The merchant has checked an order through ``plugin``: the panel shows it selected."""
    diagnosis = Diagnosis.objects.create(
        merchant_id=plugin.merchant_id,
        subject_id=plugin.pk,
        subject_label=plugin.name,
        **order_inputs("1001"),
        page=article,
    )
    session = client.session
    session[SESSION_KEY.format(page_id=article.pk)] = str(diagnosis.uuid)
    session.save()
    return diagnosis


def demo_plugin(fragment: str) -> Plugin:
    return Plugin.objects.get(name__contains=fragment)


def incident(platform="sandbox", check_key="plugin_authorized", **fields) -> Incident:
    values = {
        "wording": WORDING,
        "window_minutes": 30,
        "share": 0.8,
        "runs": 12,
        "merchants": 5,
        "failing_merchants": 4,
        **fields,
    }
    return Incident.objects.create(check_key=check_key, platform=platform, **values)


def step_html(response, number: int) -> str:
    html = response.content.decode()
    match = re.search(rf'<section class="step" id="step-{number}".*?</section>', html, re.S)
    assert match, f"no step {number}"
    return match.group(0)


def notes_on(response) -> dict[int, str]:
    """Step number → the incident note's text, for every step that shows one."""
    notes = {}
    for number in range(1, 8):
        note = re.search(r'<div class="incident-note[^>]*>(.*?)</div>', step_html(response, number), re.S)
        if note:
            notes[number] = text(note.group(1))
    return notes


def test_a_confirmed_incident_shows_on_its_step_for_merchants_of_that_platform(merchant_client, demo):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    incident_confirm(incident=incident(), by=UserFactory())

    response = merchant_client.get(demo.url)

    notes = notes_on(response)
    assert list(notes) == [AUTHORIZED_STEP]
    assert notes[AUTHORIZED_STEP].startswith(f"Known problem: {WORDING} Support already knows.")
    step = step_html(response, AUTHORIZED_STEP)
    assert 'role="status"' in step and 'role="alert"' not in step


def test_an_incident_nobody_confirmed_shows_nothing(merchant_client, demo):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    incident()

    assert notes_on(merchant_client.get(demo.url)) == {}


def test_a_dismissed_incident_shows_nothing(merchant_client, demo):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    confirmed = incident()
    incident_confirm(incident=confirmed, by=UserFactory())
    incident_dismiss(incident=confirmed, by=UserFactory())

    assert notes_on(merchant_client.get(demo.url)) == {}


def test_merchants_whose_selected_plugin_is_on_another_platform_see_nothing(merchant_client, demo):
    Plugin.objects.filter(name__contains="Gift shop").update(platform="shopify")
    choose_plugin(merchant_client, demo, demo_plugin("Gift shop"))
    incident_confirm(incident=incident(platform="sandbox"), by=UserFactory())

    assert notes_on(merchant_client.get(demo.url)) == {}

    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    assert list(notes_on(merchant_client.get(demo.url))) == [AUTHORIZED_STEP]


def test_readers_without_a_plugin_chosen_or_signed_out_see_nothing(client, merchant_client, demo):
    incident_confirm(incident=incident(), by=UserFactory())

    assert notes_on(merchant_client.get(demo.url)) == {}  # several plugins, none chosen yet
    merchant_client.logout()
    assert notes_on(client.get(demo.url)) == {}


def test_once_resolved_the_step_says_so_for_a_while(merchant_client, demo, settings):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    plugins = stores("sandbox", 4)
    for plugin in plugins:
        runs_on(plugin, "failed", "failed", ago=timedelta(minutes=10))
    opened = incidents_evaluate().opened[0]
    incident_confirm(incident=opened, by=UserFactory())
    for plugin in plugins:
        runs_on(plugin, "passed")
    incidents_evaluate()
    opened.refresh_from_db()

    note = notes_on(merchant_client.get(demo.url))[AUTHORIZED_STEP]
    local = timezone.localtime(opened.resolved_at)
    assert note.startswith(f"Resolved at {local:%b} {local.day}, {local:%H:%M}")
    assert "the problem many Demo marketplace stores had with this step is over" in note

    Incident.objects.filter(pk=opened.pk).update(resolved_at=timezone.now() - timedelta(hours=7))
    assert notes_on(merchant_client.get(demo.url)) == {}


def test_the_ticket_form_says_support_already_knows(merchant_client, demo):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    confirmed = incident()

    assert "Support already knows" not in merchant_client.get(demo.url).content.decode()

    incident_confirm(incident=confirmed, by=UserFactory())
    page = merchant_client.get(demo.url).content.decode()
    form = re.search(r'<div id="support-ticket".*?</form>', page, re.S).group(0)
    assert f"Support already knows: {WORDING}" in text(form)

    # The form as the article asks for it again after each check.
    fresh = merchant_client.get(reverse("support:ticket_form") + f"?page={demo.pk}", HTTP_HX_REQUEST="true")
    assert "Support already knows:" in fresh.content.decode()


def test_the_notes_cost_the_article_a_few_queries_however_many_steps(
    merchant_client, demo, django_assert_max_num_queries
):
    choose_plugin(merchant_client, demo, demo_plugin("Main store"))
    for check_key in ("plugin_authorized", "source_order_state", "manual_sync"):
        incident_confirm(incident=incident(check_key=check_key), by=UserFactory())
    merchant_client.get(demo.url)

    with django_assert_max_num_queries(30):  # as without incidents (tests/checks/test_widget_on_the_page.py)
        response = merchant_client.get(demo.url)
    assert list(notes_on(response)) == [5, 6, 7]
