"""The live article a request names, and the article a row points at, read as its own page type."""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from wagtail.models import Page, get_page_models

from kitty_troubleshoot.params import int_param

# Each page's own type, by id, once seen: Wagtail never changes a page's type, so later
# lookups read the page's own row in one query instead of the base page, then its type's.
_page_types: dict[int, type[Page]] = {}


def live_article(page_id) -> Page:
    """The live article (a page with steps) with this id; a 404 for anything else."""
    pk = int_param(str(page_id or ""))
    try:
        if pk is None:
            raise ValueError(page_id)
        page_type = _page_types.get(pk)
        page = page_type.objects.live().filter(pk=pk).first() if page_type is not None else None
        if page is None:  # not seen yet, or no longer that (or any) live page: asked in full
            page = Page.objects.live().get(pk=pk).specific
            _page_types[pk] = type(page)
    except (TypeError, ValueError, OverflowError, Page.DoesNotExist):
        raise Http404("No such article.") from None
    if not hasattr(page, "check_steps"):  # a page without steps (e.g. the help center's home)
        raise Http404("No such article.")
    return page


@cache
def _article_types() -> tuple[str, ...]:
    """How a base page reaches each page type with steps (a ``body``): the reverse one-to-one's name."""
    return tuple(
        model._meta.model_name
        for model in get_page_models()
        if Page in model._meta.parents and hasattr(model, "check_steps")
    )


def with_article(queryset, field: str = "page"):
    """``queryset`` reading the article its rows point at (``field``) as its own page type, in the same query."""
    return queryset.select_related(*(f"{field}__{name}" for name in _article_types()))


def article_from(page: Page | None) -> Page | None:
    """The page as its own type: read already when it came through :func:`with_article`, else asked for."""
    if page is None:
        return None
    for name in _article_types():
        if getattr(type(page), name).is_cached(page):
            try:
                return getattr(page, name)
            except ObjectDoesNotExist:  # read with it, and not of this type
                continue
    return page.specific
