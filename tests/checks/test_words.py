"""How waits, moments and typed order numbers read."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.base import InputError
from apps.checks.templatetags.check_words import ago
from apps.commerce.order_inputs import clean_order_number
from kitty_troubleshoot.words import duration_words


@pytest.mark.parametrize(
    "seconds,words",
    [
        (0, "less than a minute"),
        (59, "less than a minute"),
        (60, "about 1 minute"),
        (89, "about 1 minute"),
        (125, "about 2 minutes"),
        (90 * 60, "about 90 minutes"),
        (119.6 * 60, "about 2 hours"),
        (5 * 3600 + 100, "about 5 hours"),
        (86340, "about 24 hours"),  # the demo's throttle: a day reads in hours
        (3 * 86400, "about 3 days"),
        (-5, "less than a minute"),
    ],
)
def test_durations_read_as_people_say_them(seconds, words):
    assert duration_words(seconds) == words


def test_a_check_that_just_ran_says_just_now():
    assert ago(timezone.now() - timedelta(seconds=10)) == "just now"
    assert ago(timezone.now() - timedelta(minutes=5)) == "about 5 minutes ago"


@pytest.mark.parametrize(
    "typed,number",
    [
        ("１００４", "1004"),  # full-width digits
        ("＃１００４", "1004"),  # a full-width number sign
        (" #1004 ", "1004"),
        ("ＡＢＣ－１２", "ABC-12"),
        ("١٠٠٤", "1004"),  # Arabic-Indic digits, as an Arabic keyboard types them
        ("#۱۰۰۴", "1004"),  # Extended Arabic-Indic (Persian, Urdu)
        ("१००४", "1004"),  # Devanagari
        ("AB-১২", "AB-12"),  # Bengali digits after Latin letters
        ("𝟏𝟎𝟎𝟒", "1004"),  # mathematical bold digits, pasted from styled text
        ("", ""),
    ],
)
def test_order_numbers_are_folded_to_the_form_platforms_use(typed, number):
    assert clean_order_number(typed) == number


@pytest.mark.parametrize("typed", ["١٠ ٠٤", "10 04", "١٠٫٤", "#", "x" * 65, "１" * 300])
def test_order_numbers_that_are_not_one_are_refused(typed):
    with pytest.raises(InputError):
        clean_order_number(typed)
