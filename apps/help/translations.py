"""Writes of translated help pages: a translation written as text becomes a wagtail-localize translation.

A translation is an article's plain text (``article_text``) in another language, written
step for step as the English one: the same steps, each with as many paragraphs and bullets.
It is imported the way a translator's work in Wagtail is saved: each of the English page's
segments (title, each paragraph, each bullet) gets its translated string, and wagtail-localize
builds the translated page from the English one. So editors find it in the translation editor,
in sync with its source; its step blocks keep the source's ids; and its steps carry the
source's checks, since a check is not text to translate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from wagtail.coreutils import find_available_slug
from wagtail.models import Locale, Page
from wagtail_localize.models import StringSegment, StringTranslation, Translation, TranslationSource
from wagtail_localize.segments import StringSegmentValue
from wagtail_localize.segments.extract import extract_segments

from .article_text import Article, ArticleFormatError, TextBlock, decode_article, parse_article
from .models import HelpIndexPage, TroubleshootingPage
from .services import _stream_data, _summary, help_center_get_or_create


class TranslationShapeError(ValueError):
    """The translation does not have the source's shape (steps, paragraphs, bullets); the message says where."""


@dataclass(frozen=True)
class TranslationImportResult:
    page: Page  # the translated page
    created: bool


def locale_ensure(language: str) -> Locale:
    """The Wagtail locale of one of settings.WAGTAIL_CONTENT_LANGUAGES, created the first time."""
    locale, _ = Locale.objects.get_or_create(language_code=language)
    return locale


def article_translation_import(
    *, source: TroubleshootingPage, data: bytes, language: str, user=None, publish: bool = True
) -> TranslationImportResult:
    """Translate the published article ``source`` into ``language`` from ``data`` (its text in that language).

    Raises ``ArticleFormatError`` for malformed text and ``TranslationShapeError`` when the
    translation's steps, paragraphs or bullets do not match the source's; nothing is written then.
    """
    article = parse_article(decode_article(data), language=language)
    source = source.specific
    _check_shape(article, source)
    translated = TroubleshootingPage(
        title=article.title,
        # The address in the reader's words (/de/help/eine-bestellung-wurde-nicht-importiert/),
        # without accents; translators may change it in Wagtail. The switcher and hreflang
        # follow translations, never slugs.
        slug=slugify(article.title)[:255] or source.slug,
        seo_title=article.title if source.seo_title else "",
        search_description=_summary(article),
        intro=article.intro.to_html(),
        check_set=source.check_set,
        locale=source.locale,
    )
    # The source's block ids, step by step: the strings are matched to the source's by them.
    translated.body = _stream_data(article, previous=source.body.raw_data, step_checks={})
    return _translation_save(
        source=source, translated=translated, language=language, user=user, publish=publish
    )


def help_center_translation_import(*, data: bytes, language: str, user=None, publish: bool = True):
    """Translate the help center's home page: its title on the first line, then its introduction's paragraphs."""
    lines = [line.strip() for line in decode_article(data).splitlines() if line.strip()]
    if not lines:
        raise ArticleFormatError(1, "the file is empty; expected the help center's title")
    source = help_center_get_or_create()
    intro = TextBlock()
    for line in lines[1:]:
        intro.add_paragraph(line)
    # Its slug is not in any address (each language's help center is the site's root in it).
    translated = HelpIndexPage(title=lines[0], slug=source.slug, intro=intro.to_html(), locale=source.locale)
    return _translation_save(
        source=source, translated=translated, language=language, user=user, publish=publish
    )


def _check_shape(article: Article, source: TroubleshootingPage) -> None:
    if len(article.steps) != len(source.steps):
        raise TranslationShapeError(
            f"the translation has {len(article.steps)} steps, the source {len(source.steps)}"
        )
    has_tail = any(block.block_type == "still_missing" for block in source.body)
    if has_tail != (article.still_missing is not None):
        raise TranslationShapeError(
            "the source ends with a closing question (“Still missing?”) and the translation does not"
            if has_tail
            else "the translation ends with a closing question the source does not have"
        )


def _strings_by_path(instance) -> dict[str, list[str]]:
    """Each translatable text's strings, in order, by the content path wagtail-localize keys them by."""
    strings = defaultdict(list)
    for segment in extract_segments(instance):
        if isinstance(segment, StringSegmentValue):
            strings[segment.path].append(segment.string.data)
    return strings


def _translation_save(*, source: Page, translated: Page, language: str, user, publish: bool):
    source_strings = _strings_by_path(source)
    translated_strings = _strings_by_path(translated)
    for path, strings in source_strings.items():
        found = translated_strings.get(path, [])
        if len(found) != len(strings):
            raise TranslationShapeError(
                f"{_where(source, path)} has {len(strings)} paragraphs and bullets in the source "
                f"and {len(found)} in the translation"
            )
    locale = locale_ensure(language)
    with transaction.atomic():
        created = not source.has_translation(locale)
        if created:
            _copy_for_translation(source, locale, user=user)
        before = TranslationSource.objects.get_for_instance_or_none(source)
        translation_source, _ = TranslationSource.update_or_create_from_instance(source)
        source_changed = before is None or before.last_updated_at != translation_source.last_updated_at
        translation, _ = Translation.objects.get_or_create(source=translation_source, target_locale=locale)
        strings_changed = _strings_save(translation, translated_strings, user=user)
        if created or source_changed or strings_changed:
            # A draft first, published here: wagtail-localize publishes on commit, from the page as it
            # was when saved, which inside a longer transaction (demo_setup) undoes the children added since.
            translation.save_target(user=user, publish=False)
        page = translation.get_target_instance()
        if publish and (page.has_unpublished_changes or not page.live):
            # ``user`` names who translated it in the page's history; the import itself is the
            # permission (a new language's tree has no editors' permissions until it exists).
            page.get_latest_revision().publish(user=user, skip_permission_checks=True)
            page.refresh_from_db()
    return TranslationImportResult(page=page, created=created)


def _copy_for_translation(source: Page, locale: Locale, *, user) -> Page:
    """The page the translation is saved into, copied as Wagtail's "Translate this page" does.

    Here rather than by Wagtail's action, which copies without naming anyone: the translated
    page's history starts with who translated it. Its parent's translation must exist (the help
    center is translated before its articles); the help center itself is a new root's sibling.
    """
    parent = source.get_parent().specific
    if parent.is_root():
        to, slug = parent, f"{source.slug}-{locale.language_code}"
    else:
        to, slug = parent.get_translation(locale), source.slug
    return source.copy(
        to=to,
        update_attrs={"locale": locale, "slug": find_available_slug(to, slug)},
        copy_revisions=False,
        keep_live=False,
        reset_translation_key=False,
        user=user,
        log_action="wagtail.copy_for_translation",
    )


def _strings_save(translation: Translation, translated: dict[str, list[str]], *, user) -> bool:
    """Save each of the source's strings' translation, as the translation editor would; True if any changed.

    What ``Translation.import_po`` does one query at a time, in two: the demo (and every test
    that sets it up) imports six pages.
    """
    segments = (
        StringSegment.objects.filter(source=translation.source).select_related("context").order_by("order")
    )
    existing = {
        (row.translation_of_id, row.context_id): row.data
        for row in StringTranslation.objects.filter(
            locale=translation.target_locale, context__object_id=translation.source.object_id
        )
    }
    seen: dict[str, int] = defaultdict(int)
    rows = []
    now = timezone.now()
    for segment in segments:
        path = segment.context.path
        data = translated[path][seen[path]]
        seen[path] += 1
        if existing.get((segment.string_id, segment.context_id)) == data:
            continue
        rows.append(
            StringTranslation(
                translation_of_id=segment.string_id,
                locale=translation.target_locale,
                context_id=segment.context_id,
                data=data,
                translation_type=StringTranslation.TRANSLATION_TYPE_MANUAL,
                last_translated_by=user,
                updated_at=now,
            )
        )
    StringTranslation.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["locale", "translation_of", "context"],
        update_fields=[
            "data",
            "translation_type",
            "last_translated_by",
            "updated_at",
            "has_error",
            "field_error",
        ],
    )
    if rows:
        Translation.objects.filter(pk=translation.pk).update(translations_last_updated_at=now)
    return bool(rows)


def _where(page: Page, path: str) -> str:
    """A content path ("body.<block id>.body") as a translator reads it ("Step 3's text")."""
    field, _, rest = path.partition(".")
    if field != "body" or not isinstance(page, TroubleshootingPage):
        return f"the {field.replace('_', ' ')}"
    block_id, _, part = rest.partition(".")
    for number, block in enumerate(page.steps, start=1):
        if block.id == block_id:
            return f"Step {number}'s {'title' if part == 'title' else 'text'}"
    return "the closing section"
