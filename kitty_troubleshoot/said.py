"""Sentences for people that can be read in any of the site's languages, whenever they are read.

A verdict is worded when a check runs, but read later: by the merchant in
German, by a support agent in English, in an e-mail in the recipient's
language. So what the software says is kept as a message, never as text in
one language: the English source sentence (a gettext msgid with named
placeholders), its values, and for a plural the count that picks the form.

``said("Order #%(number)s is not in Commerce Kitty yet.", number="1004")``
makes a ``Said``: a ``str`` whose value is the English sentence (what logs,
``==``, database searches and the English tests see) and whose ``str()``,
f-string and template rendering are in the language active at that moment,
as Django's lazy translations are. Values may be messages themselves (a
verdict within a summary's sentence), moments (``Moment``, read in the
reader's locale) or plain values (names, numbers), which are never translated.

Messages are whole sentences: gluing a ``Said`` to other text with ``+`` or
``join`` gives plain English text, which ``tests/test_translations.py`` finds.
``said`` and ``said_n`` are gettext keywords for ``./dev messages``
(apps/languages/management/commands/makemessages.py).

Stored, a message is JSON (``as_json``/``load``), e.g. in a check run's
evidence: ``{"said": msgid, "params": {...}}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from django.db import models
from django.utils import dateformat, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext, npgettext, pgettext

# The form a moment takes in results (Django's date format); each language's is its translation
# of this, under the context "the form of a moment in results" ("j. F Y, H:i T" in German).
MOMENT_FORMAT = "M j, Y H:i T"


class Said(str):
    """One message: its English text as the ``str`` value, rendered in the active language by ``str()``."""

    __slots__ = ("msgid", "plural", "count", "context", "params")

    def __new__(
        cls, msgid: str, params: dict | None = None, *, plural: str = "", count=None, context: str = ""
    ):
        params = dict(params or {})
        if plural:
            params.setdefault("count", count)
        english = _fill(plural if plural and count != 1 else msgid, params, translate=False)
        self = super().__new__(cls, english)
        self.msgid, self.plural, self.count, self.context, self.params = msgid, plural, count, context, params
        return self

    def translated(self, language: str | None = None) -> str:
        """The message in ``language`` (the active language when None)."""
        if language is not None:
            with translation.override(language):
                return self.translated()
        if self.plural:
            if self.context:
                text = npgettext(self.context, self.msgid, self.plural, self.count)
            else:
                text = ngettext(self.msgid, self.plural, self.count)
        else:
            text = pgettext(self.context, self.msgid) if self.context else gettext(self.msgid)
        return _fill(text, self.params, translate=True)

    def __str__(self) -> str:
        return self.translated()

    def __html__(self) -> str:
        # Templates render messages in the reader's language (conditional_escape asks for this).
        return escape(self.translated())

    def __reduce__(self):
        return (_value_of, (self.as_json(),))

    def as_json(self) -> dict:
        data: dict[str, Any] = {
            "said": self.msgid,
            "params": {k: _json_of(v) for k, v in self.params.items()},
        }
        if self.plural:
            data["plural"], data["count"] = self.plural, self.count
        if self.context:
            data["context"] = self.context
        return data

    @staticmethod
    def load(value):
        """A stored message (or plain text, as older rows keep it) back as what was stored."""
        return _value_of(value)


class Moment(Said):
    """A moment as merchants read it in results ("Nov 28, 2026 14:05 UTC"), in the reader's locale."""

    __slots__ = ("moment",)

    def __new__(cls, moment: datetime):
        local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
        self = str.__new__(cls, dateformat.format(local, MOMENT_FORMAT))
        self.msgid, self.plural, self.count, self.context, self.params = "", "", None, "", {}
        self.moment = moment
        return self

    def translated(self, language: str | None = None) -> str:
        if language is not None:
            with translation.override(language):
                return self.translated()
        local = timezone.localtime(self.moment) if timezone.is_aware(self.moment) else self.moment
        return dateformat.format(local, pgettext("the form of a moment in results", "M j, Y H:i T"))

    def as_json(self) -> dict:
        return {"moment": self.moment.isoformat()}


def said(msgid: str, **params) -> Said:
    """A whole sentence (gettext msgid, English) with named ``%(placeholders)s``."""
    return Said(msgid, params)


def said_n(singular: str, plural: str, count: int, **params) -> Said:
    """A sentence with a count: ``%(count)s`` and the form (one or many) the language's plural rule picks."""
    return Said(singular, params, plural=plural, count=count)


def said_p(context: str, msgid: str, **params) -> Said:
    """A sentence whose English words need a hint to be translated right (gettext's context)."""
    return Said(msgid, params, context=context)


def in_language(value, language: str) -> str:
    """``value`` as read in ``language``: a message translated, anything else as it is."""
    if isinstance(value, Said):
        return value.translated(language)
    return "" if value is None else str(value)


def english_lines(lines) -> str:
    """Sentences (messages or text) as the English a text column keeps of them, one a line."""
    return "\n".join(str.__str__(line) if isinstance(line, str) else str(line) for line in lines)


def lines_read(messages, english: str) -> list:
    """Sentences as stored beside their English: the messages, else (older rows) the English lines."""
    if messages:
        return list(messages)
    return [line for line in (english or "").splitlines() if line.strip()]


def as_json(value):
    """``value`` with every message in it made storable as JSON (lists and dicts walked)."""
    return _json_of(value)


def _fill(text: str, params: dict, *, translate: bool) -> str:
    if not params:
        return text.replace("%%", "%") if "%%" in text else text
    values = {k: _rendered(v, translate) for k, v in params.items()}
    try:
        return text % values
    except (KeyError, ValueError, TypeError):
        # A translation whose placeholders do not match (msgfmt --check catches these) falls back to English.
        return text if not translate else _fill(text, params, translate=False)


def _rendered(value, translate: bool):
    if isinstance(value, Said):
        return value.translated() if translate else str.__str__(value)
    if isinstance(value, datetime):
        return _rendered(Moment(value), translate)
    return value


def _json_of(value):
    if isinstance(value, Said):
        return value.as_json()
    if isinstance(value, datetime):
        return Moment(value).as_json()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_of(v) for v in value]
    return value


def _value_of(value):
    if isinstance(value, dict):
        if "said" in value and isinstance(value.get("said"), str):
            return _said_from_json(value)
        if set(value) == {"moment"} and isinstance(value["moment"], str):
            try:
                return Moment(datetime.fromisoformat(value["moment"]))
            except ValueError:
                return value["moment"]
        return {k: _value_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value_of(v) for v in value]
    return value


def _said_from_json(data: dict) -> Said:
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return Said(
        data["said"],
        {k: _value_of(v) for k, v in params.items()},
        plural=data.get("plural") or "",
        count=data.get("count"),
        context=data.get("context") or "",
    )


class SaidColumns:
    """A model mixin for text columns kept in English, each with its message in a ``SaidField`` beside it.

    ``said_columns`` maps a text column to its message column. A loaded row's text
    column is the message (read in each reader's language; its value is still the
    English), and ``said_values`` gives what to write to both.
    """

    said_columns: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        for text, message in cls.said_columns.items():
            kept = row.__dict__.get(message)
            if isinstance(kept, Said) and text in row.__dict__:
                setattr(row, text, kept)
        return row

    @classmethod
    def said_values(cls, text: str, message) -> dict:
        """``message`` for the text column ``text`` (its English, cut to the column) and the column beside it."""
        english = str.__str__(message) if isinstance(message, str) else ""
        limit = cls._meta.get_field(text).max_length
        return {
            text: english[:limit] if limit else english,
            cls.said_columns[text]: message if isinstance(message, Said) else None,
        }


class SaidField(models.JSONField):
    """JSON that may hold messages (a run's evidence, the fixes it offered): stored as their JSON, read back as ``Said``."""

    def from_db_value(self, value, expression, connection):
        return _value_of(super().from_db_value(value, expression, connection))

    def get_prep_value(self, value):
        return super().get_prep_value(_json_of(value))
