"""Template filters that word times as the check results do."""

from django import template
from django.utils import timezone

from apps.checks.words import duration_words

register = template.Library()


@register.filter
def ago(moment) -> str:
    """ "just now", "about 5 minutes ago": how long ago a check ran."""
    if not moment:
        return ""
    seconds = (timezone.now() - moment).total_seconds()
    return "just now" if seconds < 60 else f"{duration_words(seconds)} ago"
