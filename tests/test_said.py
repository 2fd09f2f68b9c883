"""A message is worded once and read in each reader's language, however long after and wherever it is shown."""

import json
import pickle
from datetime import UTC, datetime

from django.template import Context, Template
from django.utils import translation

from kitty_troubleshoot.said import Moment, Said, as_json, said, said_n
from kitty_troubleshoot.words import duration_words

MOMENT = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)


def test_a_message_is_english_text_and_reads_in_the_active_language():
    message = said("Check again in a few minutes.")

    assert message == "Check again in a few minutes."  # its value: what logs and searches see
    with translation.override("de"):
        assert str(message) == "Prüfen Sie in ein paar Minuten erneut."
        assert f"{message}" == "Prüfen Sie in ein paar Minuten erneut."
    with translation.override("fr"):
        assert str(message) == "Vérifiez à nouveau dans quelques minutes."


def test_a_verdict_within_a_sentence_is_translated_with_it_and_plurals_follow_the_count():
    verdict = said("This check took too long.")
    line = said("Step %(step)s couldn't be checked: %(verdict)s", step=4, verdict=verdict)

    assert line == "Step 4 couldn't be checked: This check took too long."
    assert (
        line.translated("de") == "Schritt 4 konnte nicht geprüft werden: Diese Prüfung hat zu lange gedauert."
    )
    assert said_n("%(count)s step passed.", "All %(count)s steps passed.", 1) == "1 step passed."
    assert said_n("%(count)s step passed.", "All %(count)s steps passed.", 7).translated("fr") == (
        "Les 7 étapes sont réussies."
    )
    assert duration_words(300).translated("de") == "etwa 5 Minuten"


def test_moments_read_in_the_readers_locale():
    assert Moment(MOMENT) == "Nov 28, 2026 14:05 UTC"
    assert Moment(MOMENT).translated("de") == "28. November 2026, 14:05 UTC"
    assert Moment(MOMENT).translated("fr") == "28 novembre 2026, 14:05 UTC"


def test_stored_as_json_and_pickled_a_message_comes_back_a_message():
    line = said(
        "Check again after %(moment)s (%(wait)s from now).", moment=Moment(MOMENT), wait=duration_words(7200)
    )

    back = Said.load(json.loads(json.dumps(as_json([line]))))[0]
    assert isinstance(back, Said) and back == line
    assert back.translated("de") == line.translated("de")
    assert pickle.loads(pickle.dumps(line)).translated("fr") == line.translated("fr")


def test_a_template_renders_a_message_in_the_active_language_escaped():
    template = Template("<p>{{ message }}</p>")
    message = said("Fix applied: %(result)s", result="<b>")

    with translation.override("de"):
        assert template.render(Context({"message": message})) == "<p>Korrektur angewendet: &lt;b&gt;</p>"


def test_glued_to_other_text_a_message_is_plain_english_text():
    glued = said("Check again in a few minutes.") + " Or not."

    assert not isinstance(glued, Said)  # what tests/test_translations.py finds where checks speak
    with translation.override("de"):
        assert str(glued) == "Check again in a few minutes. Or not."
