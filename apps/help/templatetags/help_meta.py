"""What the page says about itself in <head>: its description, its language and its translations."""

from django import template
from django.conf import settings
from django.utils import translation
from wagtail.models import Page

from apps.help.languages import LanguageChoice, language_choices, page_language
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


@register.simple_tag(takes_context=True)
def html_language(context) -> str:
    """The language the page is written in, for ``<html lang>``: a help page's own, else the active one.

    Pages outside the help center have one address in every language and speak the reader's
    (apps/languages/middleware.py).
    """
    return page_language(context.get("page"))


@register.simple_tag(takes_context=True)
def language_choices_for_page(context) -> list[LanguageChoice]:
    """The switcher's languages, each with this page's address in it where it is translated."""
    return language_choices(context.get("page"), context.get("request"))


@register.inclusion_tag("help/language_alternates.html", takes_context=True)
def language_alternates(context) -> dict:
    """``<link rel="alternate" hreflang>`` for each language a help page is published in, and x-default.

    x-default is the English address: without a language prefix it opens in the reader's language.
    """
    page, request = context.get("page"), context.get("request")
    if not isinstance(page, Page) or request is None or getattr(request, "is_preview", False):
        return {"alternates": []}
    choices = [choice for choice in language_choices(page, request) if choice.url]
    if len(choices) < 2:
        return {"alternates": []}
    alternates = [(choice.code, request.build_absolute_uri(choice.url)) for choice in choices]
    default = dict(alternates).get(settings.LANGUAGE_CODE)
    if default:
        alternates.append(("x-default", default))
    return {"alternates": alternates}


@register.simple_tag
def help_home() -> str:
    """The help center's home in the active language: /help/ in English, /de/help/ in German."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    return "/help/" if language == settings.LANGUAGE_CODE else f"/{language}/help/"
