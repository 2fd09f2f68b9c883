"""How times and waits read to people, wherever a result is shown: messages, read in each reader's language."""

from __future__ import annotations

from datetime import datetime

from .said import Moment, Said, said, said_n


def when(moment: datetime | None) -> Said:
    """A moment as merchants read it in results ("Nov 28, 2026 14:05 UTC"; "28. Nov. 2026, 14:05 UTC")."""
    return Moment(moment) if moment else said("never")


def duration_words(seconds: float) -> Said:
    """A wait as people say it: "about 2 minutes", "about 24 hours", "less than a minute"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return said("less than a minute")
    # Below two of a unit the next smaller one reads better ("about 24 hours", "about 90 minutes").
    if seconds >= 1.75 * 86400:
        return said_n("about %(count)s day", "about %(count)s days", round(seconds / 86400))
    if seconds >= 1.75 * 3600:
        return said_n("about %(count)s hour", "about %(count)s hours", round(seconds / 3600))
    return said_n("about %(count)s minute", "about %(count)s minutes", round(seconds / 60))
