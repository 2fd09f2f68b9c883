"""An outage from start to end: opened by beat, confirmed by an editor, seen by a merchant, resolved by beat."""

from datetime import timedelta

from apps.commerce.models import Plugin
from apps.incidents.models import Incident
from apps.incidents.tasks import incidents_evaluate
from tests.incidents.factories import runs_on, stores
from tests.incidents.test_admin import clients  # noqa: F401
from tests.incidents.test_banner import AUTHORIZED_STEP, choose_plugin, notes_on


def test_an_outage_is_announced_once_confirmed_and_its_end_shown(clients, article):  # noqa: F811
    merchant = clients["merchant"]
    main_store = Plugin.objects.get(name__contains="Main store")
    choose_plugin(merchant, article, main_store)
    failing = stores("sandbox", 4)
    for plugin in failing:
        runs_on(plugin, "unknown", "unknown", ago=timedelta(minutes=10))

    incidents_evaluate.delay()
    opened = Incident.objects.get()
    assert notes_on(merchant.get(article.url)) == {}  # not confirmed yet

    clients["editor"].post(
        f"/cms/incidents/edit/{opened.pk}/",
        {"wording": "The demo marketplace is not answering; we are on it.", "incident-action": "confirm"},
    )
    assert notes_on(merchant.get(article.url)) == {
        AUTHORIZED_STEP: "Known problem: The demo marketplace is not answering; we are on it. "
        "Support already knows. Noticed just now ."
    }

    # The stores pass again: beat resolves it, and the step says so.
    for plugin in failing:
        runs_on(plugin, "passed")
    incidents_evaluate.delay()

    note = notes_on(merchant.get(article.url))[AUTHORIZED_STEP]
    assert note.startswith("Resolved at ")
    assert Incident.objects.get().state == "resolved"
