"""Template filters that word times as the check results do."""

from django import template
from django.utils import timezone

from kitty_troubleshoot.said import said
from kitty_troubleshoot.words import duration_words

register = template.Library()


@register.filter
def ago(moment) -> str:
    """ "just now", "about 5 minutes ago": how long ago a check ran."""
    if not moment:
        return ""
    seconds = (timezone.now() - moment).total_seconds()
    return said("just now") if seconds < 60 else said("%(wait)s ago", wait=duration_words(seconds))


@register.filter
def machine_time(moment) -> str:
    """A moment as HTML's ``<time datetime>`` takes it: local time to the second, with its offset.

    ``date:'c'`` adds microseconds, which HTML's date-time syntax does not allow.
    """
    if not moment:
        return ""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()
