"""The page's description for search engines and link previews."""

from django import template
from django.utils.text import Truncator
from wagtail.models import Page
from wagtail.rich_text import get_text_for_indexing

register = template.Library()

SITE_DESCRIPTION = (
    "Commerce Kitty Help Center: troubleshooting articles that check your own account as you read."
)
DESCRIPTION_CHARS = 160  # what result pages show before cutting


@register.simple_tag(takes_context=True)
def meta_description(context) -> str:
    """The search description an editor gave the page, else its introduction, else the site's."""
    page = context.get("page")
    if isinstance(page, Page):
        given = (getattr(page, "search_description", "") or "").strip()
        if given:
            return given
        intro = " ".join(get_text_for_indexing(str(getattr(page, "intro", "") or "")).split())
        if intro:
            return Truncator(intro).chars(DESCRIPTION_CHARS)
    return SITE_DESCRIPTION
