"""The page's description for search engines and link previews."""

from django import template
from wagtail.models import Page

from apps.help.models import page_summary

register = template.Library()

SITE_DESCRIPTION = (
    "Commerce Kitty Help Center: troubleshooting articles that check your own account as you read."
)


@register.simple_tag(takes_context=True)
def meta_description(context) -> str:
    """The search description an editor gave the page, else its introduction, else the site's."""
    page = context.get("page")
    if isinstance(page, Page):
        return page_summary(page) or SITE_DESCRIPTION
    return SITE_DESCRIPTION
