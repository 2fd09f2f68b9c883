"""How times and waits read to people, wherever a result is shown."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def when(moment: datetime | None) -> str:
    """A moment as merchants read it in results ("Nov 28, 2026 14:05 UTC")."""
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z") if moment else "never"


def duration_words(seconds: float) -> str:
    """A wait as people say it: "about 2 minutes", "about 24 hours", "less than a minute"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "less than a minute"
    for unit, size in (("day", 86400), ("hour", 3600)):
        # Below two of a unit the next smaller one reads better ("about 24 hours", "about 90 minutes").
        if seconds >= 1.75 * size:
            return f"about {round(seconds / size)} {unit}s"
    count = round(seconds / 60)
    return f"about {count} minute{'s' if count != 1 else ''}"
