"""A watch tells the watcher in their own language, whoever's sync or which worker ended it,
and the inbox reads what it said in the reader's language."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import translation

from apps.checks.models import Diagnosis
from apps.commerce.importing import plugin_sync
from apps.commerce.models import Notification
from apps.follow.models import OrderWatch
from apps.follow.services import watches_follow
from apps.languages.services import language_preference_set
from tests.checks.conftest import plugin_named
from tests.factories import fresh_order
from tests.html import text

from .test_watch import HTMX, check_every_step, watching_a_fresh_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def arrived(merchant_client, page, committed):
    """The French merchant's watch on #1010, ended by a sync and a sweep that run in English."""
    merchant = get_user_model().objects.get(username="merchant")
    language_preference_set(user=merchant, language="fr")
    main = watching_a_fresh_order(merchant_client, page)

    with translation.override("en"), committed():  # a worker's, or an English-speaking teammate's, language
        plugin_sync(plugin=main, mode="scheduled")
    with translation.override("en"), committed():
        watches_follow()
    return OrderWatch.objects.get()


def test_the_watch_e_mail_goes_out_in_the_watchers_french(arrived):
    assert arrived.state == "arrived"
    (message,) = mail.outbox
    assert message.to == ["merchant@demo.commercekitty.example"]
    assert message.subject == "La commande n° 1010 est arrivée dans Commerce Kitty"
    assert "La commande n° 1010 est arrivée dans Commerce Kitty : importée le " in message.body
    assert "Vous nous aviez demandé de vous prévenir à son arrivée ; le suivi est terminé." in message.body
    assert "Ne plus recevoir ces e-mails : " in message.body
    html, _kind = message.alternatives[0]
    assert '<html lang="fr">' in html and "Vos notifications" in html
    for english in ("arrived in Commerce Kitty", "You asked us", "Stop these e-mails"):
        assert english not in message.body and english not in html
    # What it said stays English where it is searched and served by the API.
    assert arrived.result.startswith("Order #1010 arrived in Commerce Kitty: imported ")


def test_the_inbox_reads_the_watchs_notification_in_the_readers_language(arrived, merchant_client, settings):
    note = Notification.objects.get(kind="order_arrived")
    assert note.message.startswith("Order #1010 arrived in Commerce Kitty")  # the English column

    merchant = get_user_model().objects.get(username="merchant")
    language_preference_set(user=merchant, language="en")  # the inbox speaks the reader's language
    english = text(merchant_client.get("/notifications/").content.decode())
    language_preference_set(user=merchant, language="de")
    german = text(merchant_client.get("/notifications/").content.decode())

    assert "Order #1010 arrived in Commerce Kitty: imported " in english
    assert "Bestellung #1010 ist in Commerce Kitty angekommen: importiert am " in german
    assert "Benachrichtigungen" in german and "Noch keine Benachrichtigungen." not in german
    for english_sentence in ("arrived in Commerce Kitty", "Mark all as read", "Problems the importer met"):
        assert english_sentence not in german


def test_unsubscribing_from_the_french_e_mail_reads_in_french(arrived, client):
    (message,) = mail.outbox
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]

    asked = text(client.get(f"/{path}").content.decode())
    done = text(client.post(f"/{path}").content.decode())

    assert "Ne plus recevoir d’e-mails sur les commandes suivies ?" in asked
    assert "C’est fait : plus d’e-mails sur les commandes suivies." in done


def test_the_watch_box_answers_in_the_language_of_the_page_it_was_pressed_on(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main)
    check_every_step(merchant_client, page, main, "1010")
    diagnosis = Diagnosis.objects.get(reference="1010")

    response = merchant_client.post(
        "/notifications/watches/", {"diagnosis": str(diagnosis.uuid), "language": "fr"}, **HTMX
    )

    box = text(response.content.decode())
    assert "Commande n° 1010 suivie : vous serez prévenu ici et par e-mail de son arrivée" in box
    assert "Arrêter le suivi" in box and "Stop watching" not in box
