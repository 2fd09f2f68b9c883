"""Reads of help content."""

from __future__ import annotations

from .models import HelpIndexPage, TroubleshootingPage


def help_articles_for_index(index: HelpIndexPage, *, query: str = "") -> list[TroubleshootingPage]:
    """Live articles under the help center, best matches first when searching."""
    articles = TroubleshootingPage.objects.live().public().child_of(index)
    if query:
        return list(articles.search(query))
    return list(articles.order_by("title"))
