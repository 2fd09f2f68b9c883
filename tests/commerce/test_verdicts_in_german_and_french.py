"""A diagnosis checked in English is read in German and in French: every verdict, line and fix is a message.

The merchant's runs are stored once, whoever started them; a German or
French reader reads each step's verdict, its evidence, its fixes and the
summary in their own language. A plain ``str`` among them means text was
glued together and would stay in the language of whoever ran the check.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext
from wagtail.models import Page

from apps.checks.models import Diagnosis
from apps.checks.selectors.runs import latest_runs
from apps.checks.selectors.summary import diagnosis_summary
from apps.commerce.demo import ORDERS, PLUGINS, TWICE_ORDERS, TWICE_PLUGIN_OF_STORE
from apps.commerce.models import Plugin
from kitty_troubleshoot.said import Said

pytestmark = pytest.mark.django_db

LANGUAGES = ("de", "fr")
PLUGIN_OF_STORE = {spec.store: spec.name for spec in PLUGINS}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def merchant_client(client, demo):
    assert client.login(username="merchant", password="kitty-merchant")
    return client


def check_every_step(client, slug: str, plugin_name: str, number: str) -> Diagnosis:
    """Check every step of the article for one order, as the merchant's "Check every step" does."""
    page = Page.objects.get(slug=slug)
    plugin = Plugin.objects.get(name=plugin_name, merchant__preview_editor=None)
    client.post(
        "/checks/start/",
        {"page": page.pk, "subject": plugin.pk, "order_number": number, "all": "1"},
        **HTMX,
    )
    return Diagnosis.objects.filter(page=page, subject_id=plugin.pk, reference=number).latest("updated_at")


def _translatable(message: Said, language: str) -> bool:
    """Whether the sentence, or a message inside it, has a translation in ``language`` yet.

    The summary's own sentences belong to apps/checks; where its catalogue has
    none yet, only the verdicts inside them are this app's to translate.
    """
    if not message.msgid:  # a moment: always in the reader's locale
        return True
    with translation.override(language):
        if message.context:
            own = pgettext(message.context, message.msgid) != message.msgid
        else:
            own = gettext(message.msgid) != message.msgid
    inner = [value for value in message.params.values() if isinstance(value, Said)]
    return own or any(_translatable(value, language) for value in inner)


def _readings(diagnosis: Diagnosis) -> list[tuple[str, object, bool]]:
    """(where, what a reader reads, whether it must read differently in German and French)."""
    found = []
    for run in latest_runs(diagnosis).values():
        where = f"#{diagnosis.reference} {run.check_key}"
        found.append((f"{where} summary", run.summary, True))
        found += [(f"{where} evidence", line, True) for line in run.evidence]
        for fix in run.fixes_offered:
            found.append((f"{where} fix {fix['key']} label", fix["label"], True))
            if fix["description"]:
                found.append((f"{where} fix {fix['key']} description", fix["description"], True))
            if fix["choices"]:
                found.append((f"{where} fix {fix['key']} choice label", fix["choice_label"], True))
            if fix["unavailable"]:
                found.append((f"{where} fix {fix['key']} unavailable", fix["unavailable"], True))
    lines = diagnosis_summary(diagnosis).lines()
    assert lines, diagnosis.reference
    found += [(f"#{diagnosis.reference} summary line", line.text, None) for line in lines]
    return found


def _problems(diagnosis: Diagnosis) -> list[str]:
    problems = []
    for where, said, must_differ in _readings(diagnosis):
        if not isinstance(said, Said):
            problems.append(f"{where} is plain text, not a message: {said!r}")
            continue
        for language in LANGUAGES:
            differs = must_differ if must_differ is not None else _translatable(said, language)
            if differs and said.translated(language) == str.__str__(said):
                problems.append(f"{where} reads in English in {language}: {said.translated(language)}")
    return problems


def test_every_verdict_of_an_order_that_did_not_import_reads_in_german_and_french(merchant_client):
    problems = []
    for order in ORDERS:
        diagnosis = check_every_step(
            merchant_client, "order-did-not-import", PLUGIN_OF_STORE[order.store], order.number
        )
        assert latest_runs(diagnosis), order.number
        problems += _problems(diagnosis)

    assert problems == []


def test_every_verdict_of_an_order_imported_twice_reads_in_german_and_french(merchant_client):
    problems = []
    for order in TWICE_ORDERS:
        diagnosis = check_every_step(
            merchant_client, "order-imported-twice", TWICE_PLUGIN_OF_STORE[order.store], order.number
        )
        assert latest_runs(diagnosis), order.number
        problems += _problems(diagnosis)

    assert problems == []


def test_a_german_merchant_reads_step_4_of_order_1004_in_german(merchant_client):
    diagnosis = check_every_step(merchant_client, "order-did-not-import", PLUGIN_OF_STORE["main"], "1004")
    runs = {run.check_key: run for run in latest_runs(diagnosis).values()}
    step_4 = runs["plugin_errors"]

    german = step_4.summary.translated("de")
    french = step_4.summary.translated("fr")

    assert step_4.summary == "Order #1004 has SKU MUG-RED-404 that your catalog does not have."
    assert german == "Bestellung #1004 enthält die SKU MUG-RED-404, die es in Ihrem Katalog nicht gibt."
    assert french == "La commande #1004 contient le SKU MUG-RED-404, absent de votre catalogue."
    # Step 7 names the cause in the same words, inside its own sentence.
    step_7 = runs["manual_sync"].summary.translated("de")
    assert step_7.startswith("Bestellung #1004 ist nicht in Commerce Kitty, und ein Abgleich würde sie nicht")
    assert "die es in Ihrem Katalog nicht gibt" in step_7
    # Import Orders keeps the product's name, quoted as German writes it, with the moment in German form.
    step_1 = runs["import_orders_enabled"].summary.translated("de")
    assert re.fullmatch(
        r"„Import Orders“ ist für „Demo Marketplace – Main store“ eingeschaltet \(seit .+\)\.", step_1
    ), step_1
    summary = diagnosis_summary(diagnosis).lines()[0].text
    assert "Bestellung #1004 enthält die SKU MUG-RED-404" in summary.translated("de")
