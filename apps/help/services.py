"""Writes to the help center: its home page and imported articles."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.text import slugify
from wagtail.models import GroupPagePermission, Locale, Page, Revision, Site
from wagtail_localize.models import Translation

from apps.checks.registry import check_choices
from apps.checks.sets import check_set_choices

from .article_text import (
    Article,
    ArticleFormatError,
    decode_article,
    parse_article,
    parse_check_set,
    parse_step_checks,
)
from .models import HelpIndexPage, TroubleshootingPage

HELP_CENTER_TITLE = "Help Center"
HELP_CENTER_INTRO = (
    "<p>Answers for Commerce Kitty merchants. Where an article can look at your "
    "account for you, its steps carry a <b>Check this now</b> button.</p>"
)


class ArticleSlugError(ValueError):
    """Neither the slug asked for nor the article's title makes a URL slug."""


@dataclass(frozen=True)
class ArticleImportResult:
    page: TroubleshootingPage
    created: bool
    revision: Revision


def help_center_get_or_create() -> HelpIndexPage:
    """The help center's home page (the English source), made the default site's root so it serves /help/.

    Its translations are the same site's root in their languages (/de/help/, /fr/help/).
    """
    index = HelpIndexPage.objects.filter(locale=Locale.get_default()).first()
    if index is None:
        root = Page.get_first_root_node()
        index = HelpIndexPage(title=HELP_CENTER_TITLE, slug="help", intro=HELP_CENTER_INTRO, live=False)
        root.add_child(instance=index)
        index.save_revision().publish()
        _remove_untouched_welcome_page(root)
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=index,
            is_default_site=True,
            site_name=HELP_CENTER_TITLE,
        )
    elif site.root_page_id != index.pk:
        site.root_page = index
        site.site_name = site.site_name or HELP_CENTER_TITLE
        site.save()
    return index


def _remove_untouched_welcome_page(root: Page) -> None:
    # Wagtail's first migration leaves a placeholder "Welcome" page; once the
    # help center is the site's root it would only confuse editors.
    for page in root.get_children().filter(slug="home", numchild=0):
        if type(page.specific) is Page:
            Site.objects.filter(root_page=page).delete()
            page.delete()


def article_import(
    *,
    data: bytes,
    slug: str = "",
    checks_text: str | None = None,
    publish: bool = True,
    user=None,
) -> ArticleImportResult:
    """Create or update the article that ``data`` (its plain text) describes.

    The page is found by its slug (``slug``, else the title's), so importing again adds a revision to the
    same page. Step block ids are kept by step number, and so are the checks
    editors attached, unless ``checks_text`` (lines of ``Step N: check_key``)
    binds a step to another check; its ``Check set: key`` line sets the
    article's check set (kept as it is when there is none).
    Raises ``ArticleFormatError`` before writing anything if the text is malformed, and
    ``ArticleSlugError`` if neither ``slug`` nor the title makes a URL slug.
    """
    article = parse_article(decode_article(data))
    slug = _article_slug(requested=slug, title=article.title)
    step_checks, check_set = {}, None
    if checks_text is not None:
        try:
            step_checks = parse_step_checks(
                checks_text, known_keys={key for key, _ in check_choices()}, step_count=len(article.steps)
            )
            check_set = parse_check_set(checks_text, known_sets={key for key, _ in check_set_choices()})
        except ArticleFormatError as exc:
            exc.in_checks_file = True
            raise
    with transaction.atomic():
        index = help_center_get_or_create()
        page = TroubleshootingPage.objects.child_of(index).filter(slug=slug).first()
        created = page is None
        if created:
            page = TroubleshootingPage(title=article.title, slug=slug, live=False)
            if check_set:
                page.check_set = check_set
            page.body = _stream_data(article, previous=[], step_checks=step_checks)
            page.intro = article.intro.to_html()
            page.search_description = _summary(article)
            index.add_child(instance=page)
        else:
            page = page.get_latest_revision_as_object()
            if check_set:
                page.check_set = check_set
            page.title = article.title
            page.intro = article.intro.to_html()
            page.search_description = _summary(article)
            page.body = _stream_data(article, previous=page.body.raw_data, step_checks=step_checks)
        revision = page.save_revision(user=user, log_action=True)
        if publish:
            revision.publish(user=user)
    return ArticleImportResult(page=page, created=created, revision=revision)


def _summary(article) -> str:
    """The intro's first paragraph: the line under the title in the help center's list (and in search engines)."""
    text = article.intro.first_paragraph()
    return text if len(text) <= 250 else text[:249].rsplit(" ", 1)[0] + "…"


def _article_slug(*, requested: str, title: str) -> str:
    """The slug the page is looked up by and saved with; the two must agree.

    A slug that slugifies to nothing (a file called ``статья.txt`` or ``___.txt``) must not reach
    Wagtail empty: it would make one up from the title on every save, and every import would add
    another page. The title is slugified as Wagtail would have, so a page an earlier import left
    under that made-up slug is the one found and updated.
    """
    slug = slugify(requested) or slugify(
        title, allow_unicode=getattr(settings, "WAGTAIL_ALLOW_UNICODE_SLUGS", True)
    )
    if not slug:
        raise ArticleSlugError(
            f"neither {requested!r} nor the title {title[:40]!r} makes a URL slug; pass one with --slug"
        )
    return slug[:255]


def _stream_data(article: Article, *, previous, step_checks: dict[int, str]) -> list[dict]:
    old_steps = [block for block in previous if block["type"] == "step"]
    old_tail = next((block for block in previous if block["type"] == "still_missing"), None)
    blocks = []
    for step in article.steps:
        old = old_steps[step.number - 1] if step.number <= len(old_steps) else None
        check = step_checks.get(step.number, (old or {}).get("value", {}).get("check", ""))
        blocks.append(
            {
                "type": "step",
                "id": old["id"] if old else str(uuid.uuid4()),
                "value": {"title": step.title, "body": step.text.to_html(), "check": check or ""},
            }
        )
    if article.still_missing is not None:
        section = article.still_missing
        blocks.append(
            {
                "type": "still_missing",
                "id": old_tail["id"] if old_tail else str(uuid.uuid4()),
                "value": {
                    "heading": section.heading,
                    "body": section.text.to_html(),
                    "ticket_items": _list_items(
                        section.ticket_items, previous=(old_tail or {}).get("value", {})
                    ),
                },
            }
        )
    return blocks


def _list_items(texts: list[str], *, previous: dict) -> list[dict]:
    """A list block's items with ids (kept by position), as Wagtail saves them: translators translate each by its id."""
    old = [item for item in previous.get("ticket_items") or [] if isinstance(item, dict) and item.get("id")]
    return [
        {"type": "item", "value": text, "id": old[n]["id"] if n < len(old) else str(uuid.uuid4())}
        for n, text in enumerate(texts)
    ]


SUPPORT_EDITORS_GROUP = "Support editors"
EDITOR_PAGE_PERMISSIONS = ("add", "change", "publish", "lock", "unlock")


def support_editors_group_ensure() -> Group:
    """The group that edits and publishes help pages in Wagtail, and nothing else."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_EDITORS_GROUP)
    access_admin = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    # The report of how each step turns out (aggregates only): editors decide what to improve from it.
    outcomes = Permission.objects.get(content_type__app_label="insights", codename="view_outcomes")
    # Translating an article into another language (wagtail-localize's "Translate this page"). Made
    # as wagtail-localize's migration makes it: a database flushed since has every permission but this.
    translate, _ = Permission.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(Translation),
        codename="submit_translation",
        defaults={"name": "Can submit translations"},
    )
    group.permissions.add(access_admin, outcomes, translate)
    index = help_center_get_or_create()
    # Each language's help center is a tree of its own: editors edit and publish in all of them.
    for home in [index, *HelpIndexPage.objects.exclude(pk=index.pk)]:
        for permission_type in EDITOR_PAGE_PERMISSIONS:
            permission = Permission.objects.get(
                content_type__app_label="wagtailcore", codename=f"{permission_type}_page"
            )
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
    return group
