"""Wagtail hooks of the help center."""

from wagtail import hooks

from .languages import language_redirect


@hooks.register("before_serve_page")
def open_in_readers_language(page, request, serve_args, serve_kwargs):
    """A help address without /de/ or /fr/ opens the reader's translation of the page, if there is one."""
    return language_redirect(request, page)
