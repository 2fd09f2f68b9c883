"""Read troubleshooting articles from their plain-text form.

The format, line by line::

    Title of the article
    Intro paragraph(s), one per line.
    Step 1. Step title
    Paragraph of the step.
    - a bullet
    Step 2. ...
    Still missing?          (or another closing question beginning with "Still")
    Paragraph.
    - what to include in a support ticket

A translation is written the same way in its own words: "Schritt 1." and a closing
question beginning with "Immer noch" or "Noch immer" in German, "Étape 1." and one
beginning with "Toujours" or "Encore" in French (``parse_article(text, language="de")``).

Blank lines are allowed anywhere. A line that begins with "Step" and a number
is always a heading, so one typed slightly wrong ("Step 2 Title", "Step 2:
Title") is reported rather than read as the step above's text. Every mistake
is reported with the line it is on, and nothing is half-read:
``parse_article`` returns a whole article or raises ``ArticleFormatError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

STEP_HEADING = re.compile(r"^Step\s+(\d+)\s*\.\s*(.*)$")
# "Step" then a step number in any other shape: "Step 2 Title", "Step 2: Title",
# "step 2. Title", "Step two. Title", "Step II. Title". Prose that merely begins
# with the word ("Step back and …", "Steps 1 to 3 …", "Stepping …") does not match.
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    "|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
)
LOOKS_LIKE_STEP_HEADING = re.compile(
    rf"^step(?:\s*#?\s*\d|\s+(?:no\.?\s*|number\s+)?(?:{_NUMBER_WORDS})\b|\s+[ivx]+\s*[.:)]|\s+[a-z]\s*[.:)])",
    re.IGNORECASE,
)
NUMBERED_STEP_HEADING = re.compile(r"^step\s*#?\s*(\d+)\s*[.:)\-–—]?\s*(.*)$", re.IGNORECASE)
# The closing section's heading: "Still missing?", or the article's own words for it
# ("Still seeing it twice?"): a short line that begins with "Still" and is a question.
STILL_MISSING = re.compile(r"^Still\s[^?]{1,60}\?\s*$", re.IGNORECASE)
BULLET = re.compile(r"^[-*•]\s+(.*)$")


@dataclass(frozen=True)
class Headings:
    """How an article in one language marks its steps and its closing question."""

    step: re.Pattern  # "Step 2. Title": the number, then the title
    looks_like_step: re.Pattern  # a step heading typed wrong, reported rather than read as text
    numbered_step: re.Pattern  # the number and title of one typed wrong, for the message
    closing: re.Pattern
    step_word: str  # as the messages name it


def _headings(step_word: str, closing_words: str, *, spelled: str = "") -> Headings:
    spelled = spelled or step_word
    return Headings(
        step=re.compile(rf"^{spelled}\s+(\d+)\s*\.\s*(.*)$"),
        looks_like_step=re.compile(rf"^{spelled}\s*#?\s*\d", re.IGNORECASE),
        numbered_step=re.compile(rf"^{spelled}\s*#?\s*(\d+)\s*[.:)\-–—]?\s*(.*)$", re.IGNORECASE),
        closing=re.compile(rf"^(?:{closing_words})\s[^?]{{1,60}}\?\s*$", re.IGNORECASE),
        step_word=step_word,
    )


HEADINGS = {
    "en": Headings(STEP_HEADING, LOOKS_LIKE_STEP_HEADING, NUMBERED_STEP_HEADING, STILL_MISSING, "Step"),
    "de": _headings("Schritt", "Immer noch|Noch immer"),
    "fr": _headings("Étape", "Toujours|Encore", spelled="[ÉE]tape"),
}
MAX_TITLE_LENGTH = 200


class ArticleFormatError(ValueError):
    """The text is not a well-formed article; the message names the line."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class TextBlock:
    """A run of paragraphs and bullet lists, in order."""

    items: list[str | list[str]] = field(default_factory=list)

    def add_paragraph(self, text: str) -> None:
        self.items.append(text)

    def add_bullet(self, text: str) -> None:
        if self.items and isinstance(self.items[-1], list):
            self.items[-1].append(text)
        else:
            self.items.append([text])

    def is_empty(self) -> bool:
        return not self.items

    def first_paragraph(self) -> str:
        return next((item for item in self.items if isinstance(item, str)), "")

    def to_html(self) -> str:
        parts = []
        for item in self.items:
            if isinstance(item, list):
                parts.append("<ul>" + "".join(f"<li>{escape(b)}</li>" for b in item) + "</ul>")
            else:
                parts.append(f"<p>{escape(item)}</p>")
        return "".join(parts)


@dataclass
class ArticleStep:
    number: int
    title: str
    line: int
    text: TextBlock = field(default_factory=TextBlock)


@dataclass
class StillMissingSection:
    heading: str
    line: int
    text: TextBlock = field(default_factory=TextBlock)
    ticket_items: list[str] = field(default_factory=list)


@dataclass
class Article:
    title: str
    intro: TextBlock
    steps: list[ArticleStep]
    still_missing: StillMissingSection | None


def decode_article(data: bytes) -> str:
    """Bytes to text, refusing anything that is not UTF-8 text."""
    return _decode_text(data, what="an article")


def decode_step_checks(data: bytes) -> str:
    """An article's ``.checks`` file as text, refused the same way as the article."""
    return _decode_text(data, what="a list of step checks")


def _decode_text(data: bytes, *, what: str) -> str:
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise ArticleFormatError(line, f"this is a binary file, not {what} (NUL byte)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleFormatError(line, "this is not UTF-8 text") from None


def parse_article(text: str, *, language: str = "en") -> Article:
    """Parse an article's text; raise ArticleFormatError naming the line of the first mistake.

    ``language`` is the one it is written in (``HEADINGS``), e.g. "de" for a German translation.
    """
    try:
        headings = HEADINGS[language]
    except KeyError:
        raise ValueError(f"articles are read in {', '.join(HEADINGS)}, not {language!r}") from None
    lines = text.splitlines()
    numbered = [(n, line.strip()) for n, line in enumerate(lines, start=1)]
    content = [(n, line) for n, line in numbered if line]
    if not content:
        raise ArticleFormatError(1, "the file is empty; expected the article's title")

    title_line, title = content[0]
    if any(
        pattern.match(title)
        for pattern in (headings.step, headings.looks_like_step, headings.closing, BULLET)
    ):
        raise ArticleFormatError(title_line, f"expected the article's title, found {title!r}")
    if len(title) > MAX_TITLE_LENGTH:
        raise ArticleFormatError(title_line, f"the title is longer than {MAX_TITLE_LENGTH} characters")

    intro = TextBlock()
    steps: list[ArticleStep] = []
    still_missing: StillMissingSection | None = None
    current: TextBlock = intro

    for line_number, line in content[1:]:
        heading = headings.step.match(line)
        if heading:
            number, step_title = int(heading.group(1)), heading.group(2).strip()
            if still_missing is not None:
                raise ArticleFormatError(
                    line_number, f"Step {number} comes after “Still missing?”, which must be last"
                )
            expected = len(steps) + 1
            if number != expected:
                raise ArticleFormatError(
                    line_number,
                    f"expected Step {expected}, found Step {number} (steps are numbered in order)",
                )
            if not step_title:
                raise ArticleFormatError(line_number, f"Step {number} has no title")
            if len(step_title) > MAX_TITLE_LENGTH:
                raise ArticleFormatError(
                    line_number,
                    f"Step {number}'s title is longer than {MAX_TITLE_LENGTH} characters",
                )
            _require_text(steps, still_missing)
            steps.append(ArticleStep(number=number, title=step_title, line=line_number))
            current = steps[-1].text
            continue
        if headings.looks_like_step.match(line):
            raise _malformed_step_heading(line_number, line, headings)
        if headings.closing.match(line):
            if still_missing is not None:
                raise ArticleFormatError(line_number, "a second “Still missing?” section")
            if not steps:
                raise ArticleFormatError(line_number, "“Still missing?” comes before any step")
            _require_text(steps, still_missing)
            still_missing = StillMissingSection(heading=line, line=line_number)
            current = still_missing.text
            continue
        bullet = BULLET.match(line)
        if bullet:
            if still_missing is not None:
                still_missing.ticket_items.append(bullet.group(1).strip())
            else:
                current.add_bullet(bullet.group(1).strip())
        else:
            current.add_paragraph(line)

    last_line = len(lines)
    if not steps:
        raise ArticleFormatError(last_line, "the article has no steps; expected lines like “Step 1. Title”")
    _require_text(steps, still_missing)
    if still_missing is not None and still_missing.text.is_empty() and not still_missing.ticket_items:
        raise ArticleFormatError(still_missing.line, "“Still missing?” has no text")
    return Article(title=title, intro=intro, steps=steps, still_missing=still_missing)


def _malformed_step_heading(line_number: int, line: str, headings: Headings) -> ArticleFormatError:
    """A step heading the reader would have missed: without this it becomes the step above's text."""
    numbered = headings.numbered_step.match(line)
    word = headings.step_word
    if numbered:
        title = numbered.group(2).strip()[:40] or "Title"
        expected = f"“{word} {int(numbered.group(1))}. {title}”"
    else:
        expected = f"“{word} N. Title” with the step's number in digits"
    return ArticleFormatError(
        line_number,
        f"{line[:40]!r} looks like a step heading; write it as {expected}, "
        f"or reword the paragraph so it does not begin with “{word}” and a number",
    )


def _require_text(steps, still_missing) -> None:
    """The section that just ended must have said something."""
    if still_missing is None and steps and steps[-1].text.is_empty():
        step = steps[-1]
        raise ArticleFormatError(step.line, f"Step {step.number} has no text")


STEP_CHECK_LINE = re.compile(r"^Step\s+(\d+)\s*:\s*([a-z0-9_]+)\s*$")
CHECK_SET_LINE = re.compile(r"^Check set\s*:\s*([a-z0-9_-]+)\s*$", re.IGNORECASE)


def parse_step_checks(text: str, *, known_keys: set[str], step_count: int) -> dict[int, str]:
    """Read an article's check bindings: one ``Step N: check_key`` a line, ``#`` for comments.

    A ``Check set: key`` line names the article's check set (``parse_check_set``).
    """
    bindings: dict[int, str] = {}
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#") or CHECK_SET_LINE.match(line):
            continue
        match = STEP_CHECK_LINE.match(line)
        if not match:
            raise ArticleFormatError(line_number, f"expected “Step N: check_key”, found {line[:40]!r}")
        number, key = int(match.group(1)), match.group(2)
        if not 1 <= number <= step_count:
            raise ArticleFormatError(line_number, f"the article has no Step {number}")
        if key not in known_keys:
            raise ArticleFormatError(line_number, f"there is no check called {key!r}")
        bindings[number] = key
    return bindings


def parse_check_set(text: str, *, known_sets: set[str]) -> str | None:
    """The check set a ``.checks`` file names on its ``Check set: key`` line (None when it names none)."""
    found = None
    for line_number, raw in enumerate(text.splitlines(), start=1):
        match = CHECK_SET_LINE.match(raw.strip())
        if not match:
            continue
        if found is not None:
            raise ArticleFormatError(line_number, "a second “Check set:” line")
        if match.group(1) not in known_sets:
            raise ArticleFormatError(line_number, f"there is no check set called {match.group(1)!r}")
        found = match.group(1)
    return found
