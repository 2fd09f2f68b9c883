"""Values that go into the importer's and the checks' sentences: days, spans of time, lists of names.

Each is a message (``kitty_troubleshoot/said.py``), so a sentence that takes
one as a placeholder is read in its reader's language, when it is read, and
stored with it: a day in that language's form, "24 hours", "“A” and “B”".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.utils import timezone

from kitty_troubleshoot.said import Said, said, said_n, said_p

# Each month as results abbreviate it ("Nov 2, 2026"), one message each so each language has its own.
MONTHS = (
    said_p("abbreviated month", "Jan"),
    said_p("abbreviated month", "Feb"),
    said_p("abbreviated month", "Mar"),
    said_p("abbreviated month", "Apr"),
    said_p("abbreviated month", "May"),
    said_p("abbreviated month", "Jun"),
    said_p("abbreviated month", "Jul"),
    said_p("abbreviated month", "Aug"),
    said_p("abbreviated month", "Sep"),
    said_p("abbreviated month", "Oct"),
    said_p("abbreviated month", "Nov"),
    said_p("abbreviated month", "Dec"),
)


def day_words(day: date | datetime) -> Said:
    """A day as results write it ("Nov 2, 2026"; "2. Nov. 2026" in German), a moment's in the site's time zone."""
    if isinstance(day, datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return said_p(
        "a day in results",
        "%(month)s %(day)s, %(year)s",
        month=MONTHS[day.month - 1],
        day=day.day,
        year=day.year,
    )


def span_words(seconds: float) -> Said:
    """A span of time in round units, without "about": "5 minutes", "24 hours", "3 days"."""
    seconds = max(0.0, seconds)
    # Below two of a unit the next smaller one reads better ("24 hours", "90 minutes"), as duration_words does.
    if seconds >= 1.75 * 86400:
        return said_n("%(count)s day", "%(count)s days", round(seconds / 86400))
    if seconds >= 1.75 * 3600:
        return said_n("%(count)s hour", "%(count)s hours", round(seconds / 3600))
    if seconds < 60:
        return said("less than a minute")
    return said_n("%(count)s minute", "%(count)s minutes", round(seconds / 60))


def names_words(names: Sequence[str]) -> Said | str:
    """Names (of plugins, stores: data, never translated) quoted and listed: "“A”", "“A” and “B”", "“A”, “B” and “C”"."""
    quoted = [said_p("a name quoted in a sentence", "“%(name)s”", name=name) for name in names]
    if not quoted:
        return ""
    if len(quoted) == 1:
        return quoted[0]
    listed = quoted[-2:]
    words = said("%(first)s and %(last)s", first=listed[0], last=listed[1])
    for name in reversed(quoted[:-2]):
        words = said("%(first)s, %(rest)s", first=name, rest=words)
    return words


def numbers_words(numbers: Sequence[str]) -> str:
    """Order numbers as a list of examples ("1001, #1002"): digits, commas and # read alike in every language."""
    return ", #".join(numbers)
