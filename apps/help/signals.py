"""Whatever changes published help content empties the anonymous page cache."""

from django.db.models.signals import post_delete
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from .middleware import invalidate_page_cache


def _content_changed(**kwargs):
    invalidate_page_cache()


def connect() -> None:
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_content_changed, dispatch_uid="help-page-cache")
    post_delete.connect(_content_changed, sender=Page, dispatch_uid="help-page-cache")
