"""Admins (Django admin) and support editors (Wagtail) confirm, reword and dismiss incidents; nobody else."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.incidents.models import Incident
from apps.incidents.services import incidents_evaluate
from tests.incidents.factories import runs_on, stores

PASSWORDS = {
    "merchant": "kitty-merchant",
    "editor": "kitty-editor",
    "agent": "kitty-agent",
    "admin": "kitty-admin",
}


@pytest.fixture
def clients(article):
    call_command("demo_setup", stdout=StringIO())
    signed_in = {"anonymous": Client()}
    for username, password in PASSWORDS.items():
        signed_in[username] = Client()
        assert signed_in[username].login(username=username, password=password)
    return signed_in


@pytest.fixture
def opened(db):
    for plugin in stores("shopify", 4):
        runs_on(plugin, "unknown", "unknown")
    return incidents_evaluate().opened[0]


def wagtail_edit(incident) -> str:
    return reverse("incidents:edit", args=[incident.pk])


def test_an_editor_finds_the_incident_in_wagtail_with_its_figures(clients, opened):
    home = clients["editor"].get(reverse("wagtailadmin_home"))
    listing = clients["editor"].get(reverse("incidents:index"))
    edit = clients["editor"].get(wagtail_edit(opened))

    assert reverse("incidents:index") in home.content.decode()  # in the editor's menu
    assert listing.status_code == 200 and "Shopify: Plugin authorized? (open)" in listing.content.decode()
    page = edit.content.decode()
    assert edit.status_code == 200
    assert "4 of 4 merchants failed or couldn't check (100%; 8 runs in 30 minutes)" in page
    assert 'value="confirm"' in page and 'value="dismiss"' in page


def test_an_editor_rewords_and_confirms_it_in_wagtail(clients, opened):
    wording = "Shopify is not answering for many stores; their status page says they are on it."

    response = clients["editor"].post(
        wagtail_edit(opened), {"wording": wording, "incident-action": "confirm"}
    )

    assert response.status_code == 302
    opened.refresh_from_db()
    assert (opened.state, opened.wording) == ("confirmed", wording)
    assert opened.confirmed_by.username == "editor" and opened.confirmed_at is not None


def test_an_editor_dismisses_it_in_wagtail(clients, opened):
    clients["editor"].post(wagtail_edit(opened), {"wording": opened.wording, "incident-action": "dismiss"})

    opened.refresh_from_db()
    assert opened.state == "dismissed" and opened.dismissed_by.username == "editor"


def test_saving_the_wording_alone_does_not_show_it_to_merchants(clients, opened):
    clients["editor"].post(wagtail_edit(opened), {"wording": "Draft note."})

    opened.refresh_from_db()
    assert (opened.state, opened.wording) == ("open", "Draft note.")


def test_nobody_adds_or_deletes_an_incident_in_wagtail(clients, opened):
    for url in (reverse("incidents:add"), reverse("incidents:delete", args=[opened.pk])):
        response = clients["editor"].post(url, {"wording": "x"})
        assert response.status_code in (302, 403)
    assert list(Incident.objects.all()) == [opened]
    assert "incidents/new/" not in clients["admin"].get(reverse("incidents:index")).content.decode()


@pytest.mark.parametrize("who", ["anonymous", "merchant", "agent"])
def test_merchants_and_agents_cannot_reach_or_confirm_it_in_wagtail(clients, opened, who):
    client = clients[who]

    assert client.get(reverse("incidents:index")).status_code == 302
    assert client.get(wagtail_edit(opened)).status_code == 302
    client.post(wagtail_edit(opened), {"wording": "Hacked", "incident-action": "confirm"})

    opened.refresh_from_db()
    assert opened.state == "open" and opened.wording != "Hacked"


def test_editors_do_not_reach_incidents_in_django_admin(clients, opened):
    url = reverse("admin:incidents_incident_changelist")

    assert clients["editor"].get(url).status_code == 302  # to Django admin's sign-in
    assert clients["agent"].get(url).status_code == 403


def test_an_admin_confirms_then_dismisses_with_django_admin_actions(clients, opened):
    url = reverse("admin:incidents_incident_changelist")
    admin = clients["admin"]

    admin.post(url, {"action": "confirm", "_selected_action": [opened.pk]})
    opened.refresh_from_db()
    assert opened.state == "confirmed" and opened.confirmed_by.username == "admin"

    admin.post(url, {"action": "dismiss", "_selected_action": [opened.pk]})
    opened.refresh_from_db()
    assert opened.state == "dismissed" and opened.dismissed_by.username == "admin"


def test_an_admin_edits_the_wording_and_nothing_else(clients, opened):
    url = reverse("admin:incidents_incident_change", args=[opened.pk])

    response = clients["admin"].post(url, {"wording": "Shopify is down for many.", "state": "confirmed"})

    assert response.status_code == 302
    opened.refresh_from_db()
    assert (opened.wording, opened.state) == ("Shopify is down for many.", "open")
