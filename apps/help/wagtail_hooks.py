"""Wagtail hooks of the help center."""

from wagtail import hooks

from .languages import language_redirect, refuse_another_languages_page


@hooks.register("before_serve_page")
def open_in_readers_language(page, request, serve_args, serve_kwargs):
    """A help address without /de/ or /fr/ opens the reader's translation of the page, if there is one.

    An address naming a language the page is not published in is not found (never the source instead).
    """
    refuse_another_languages_page(request, page)
    return language_redirect(request, page)
