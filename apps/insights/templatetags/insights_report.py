"""Filters of the outcome report: a rate as editors read it, a language by its name."""

from django import template
from django.utils.translation import get_language_info

register = template.Library()


@register.filter
def insights_percent(rate) -> str:
    """0.8333 → "83%"; "–" where there is nothing to divide by."""
    return "–" if rate is None else f"{round(rate * 100)}%"


@register.filter
def language_name(code: str) -> str:
    """A language code by its name in the reader's language ("de" → "German", "Deutsch" in German)."""
    try:
        return str(get_language_info(code)["name_translated"]) if code else "–"
    except KeyError:
        return code
