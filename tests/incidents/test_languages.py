"""An incident's note reads in each merchant's language until someone rewords it."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from apps.incidents.models import Incident
from apps.incidents.services import incidents_evaluate
from tests.html import text
from tests.incidents.factories import runs_on, stores

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    for plugin in stores("shopify", 4):
        runs_on(plugin, "failed", "failed")
    incidents_evaluate()
    return Incident.objects.get()


def banner(incident, language: str) -> str:
    with translation.override(language):
        return text(render_to_string("incidents/banner.html", {"incident": incident}))


def test_the_beat_tasks_wording_reads_in_each_merchants_language(incident):
    english, german, french = (banner(incident, language) for language in ("en", "de", "fr"))

    assert incident.wording.startswith("Shopify is refusing many stores' connections right now")
    assert "Known problem: Shopify is refusing many stores' connections right now" in english
    assert "Bekanntes Problem: Shopify lehnt gerade die Verbindungen vieler Shops ab" in german
    assert "Der Support weiß bereits Bescheid." in german
    assert "Problème connu : Shopify refuse en ce moment les connexions" in french
    assert "refusing" not in german and "refusing" not in french


def test_a_reworded_note_is_shown_as_written(incident):
    Incident.objects.filter(pk=incident.pk).update(wording="Shopify antwortet nicht; wir sind dran.")
    incident.refresh_from_db()

    assert "Bekanntes Problem: Shopify antwortet nicht; wir sind dran." in banner(incident, "de")
    assert "Known problem: Shopify antwortet nicht; wir sind dran." in banner(incident, "en")


def test_an_incidents_name_in_admin_reads_in_the_admins_language(incident):
    with translation.override("de"):
        assert str(incident).endswith("(offen)")
    assert str(incident).endswith("(open)")
