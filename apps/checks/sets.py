"""Check sets: what one kind of troubleshooting article asks a merchant and may check.

An article declares its set (``TroubleshootingPage.check_set``, a key
registered here). The set names the inputs a merchant types and how each is
cleaned, the subjects its checks run on, the check that runs before Step 1,
the checks its steps may attach, and the words its summary speaks. The
framework reads all of that from the set and so knows no article: the app
that owns the data (``apps.commerce``) registers its sets at startup, as it
registers its checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.translation import gettext_noop

from kitty_troubleshoot.said import Said, said

from .base import InputError
from .registry import account_directory, get_check


@dataclass(frozen=True)
class TypedInput:
    """One field a merchant fills in above the steps, and how what they type is cleaned.

    ``clean`` turns the typed text into the value checks get (raising
    ``InputError`` on this field's name for garbage); ``stored`` turns a value
    into the text a diagnosis keeps, and ``clean`` reads that text back.
    """

    name: str  # the form field, and the key in a diagnosis' inputs
    label: str
    clean: Callable[[str | None], Any]
    kind: str = "text"  # "text" or "date": how the form asks for it
    placeholder: str = ""
    optional: bool = False  # shown as optional beside its label
    # What a check that cannot do without this input says when it was left empty.
    missing: str = ""
    # What the diagnosis is about (an order number): the one input a diagnosis is found again by.
    identifies: bool = False
    stored: Callable[[Any], str] = field(default=lambda value: "" if value is None else str(value))

    @property
    def dom_id(self) -> str:
        return "check-" + self.name.replace("_", "-")


@dataclass(frozen=True)
class SummaryWords:
    """The summary's sentences that name what the article is about: whole messages (gettext msgids).

    Each is a sentence in English with named placeholders: ``%(reference)s``
    is the identifying input as typed (an order number), ``%(step)s`` a step's
    number and ``%(verdict)s`` that step's one-sentence result. Mark each with
    ``gettext_noop`` so ``./dev messages`` finds it; ``CheckSet.say`` makes the
    message, read in each reader's language.
    """

    about: str = gettext_noop("%(reference)s")  # the thing itself, e.g. "order #%(reference)s"
    already_here: str = gettext_noop("%(reference)s needs nothing more.")
    # Said under the check before Step 1 when it passed: why the steps below do not apply.
    already_here_then: str = gettext_noop("So the steps below do not apply.")
    keeps_out: str = gettext_noop("Step %(step)s is the cause: %(verdict)s")
    all_passed_then: str = gettext_noop(
        "If it still goes wrong, open a support ticket: it will carry this diagnosis."
    )
    # Watching ("tell me when it arrives"); empty when the set's subject cannot arrive by itself.
    watch_needs_reference: str = ""
    watch_wait: str = gettext_noop("Wait until the checks of %(reference)s have finished, then watch it.")
    watch_never: str = gettext_noop(
        "There is nothing to watch for: %(reference)s will not arrive by itself. %(verdict)s"
    )
    watch_absent: str = gettext_noop("There is nothing to watch for: the source has no %(reference)s.")
    watch_blocked: str = gettext_noop(
        "%(reference)s will not arrive by itself until Step %(step)s is resolved: %(verdict)s"
    )


class CheckSet:
    """One article kind's inputs, subjects, checks and summary words; subclass and ``register_set``."""

    key: ClassVar[str]
    title: ClassVar[str]  # the article the set was written for
    inputs: ClassVar[tuple[TypedInput, ...]] = ()
    subject_label: ClassVar[str] = "Plugin"
    subject_missing: ClassVar[str] = "Choose what to check."
    subject_placeholder: ClassVar[str] = "Choose one…"
    # The check that runs with every start, before Step 1 ("is it already here?"): its
    # result ends the diagnosis early. Run only when the identifying input was given.
    before_step_one: ClassVar[str] = ""
    # The checks the set's steps may attach, in the order of the steps they were written for.
    check_keys: ClassVar[tuple[str, ...]] = ()
    words: ClassVar[SummaryWords] = SummaryWords()

    # --- inputs ---------------------------------------------------------------

    @classmethod
    def input(cls, name: str) -> TypedInput | None:
        return next((i for i in cls.inputs if i.name == name), None)

    @classmethod
    def identifying(cls) -> TypedInput | None:
        return next((i for i in cls.inputs if i.identifies), None)

    @classmethod
    def clean(cls, typed: Mapping[str, str]) -> dict[str, Any]:
        """Every input cleaned from what was typed (a form's POST); raises InputError for the first bad one."""
        return {i.name: i.clean(typed.get(i.name)) for i in cls.inputs}

    @classmethod
    def stored(cls, values: Mapping[str, Any]) -> dict[str, str]:
        """The values as a diagnosis and its runs keep them (text, JSON-safe)."""
        return {i.name: i.stored(values.get(i.name)) for i in cls.inputs}

    @classmethod
    def loaded(cls, stored: Mapping[str, Any]) -> dict[str, Any]:
        """Stored inputs as checks get them; a value that no longer cleans is read as not given."""
        values = {}
        for i in cls.inputs:
            try:
                values[i.name] = i.clean(str(stored.get(i.name) or ""))
            except InputError:
                values[i.name] = i.clean("")
        return values

    @classmethod
    def reference_of(cls, values: Mapping[str, Any]) -> str:
        ident = cls.identifying()
        return ident.stored(values.get(ident.name)) if ident is not None else ""

    @classmethod
    def missing_for(cls, check_keys, values: Mapping[str, Any]) -> InputError | None:
        """The refusal for a start whose checks need an input left empty (None when all are there)."""
        for key in check_keys:
            check = get_check(key)
            for name in getattr(check, "needs", ()):
                typed = cls.input(name)
                if typed is not None and not values.get(name):
                    return InputError(name, typed.missing or said("Fill in %(field)s.", field=typed.label))
        return None

    # --- subjects -------------------------------------------------------------

    @classmethod
    def subject_choices(cls, merchant_id: int) -> list[tuple[int, str]]:
        return account_directory().subject_choices(merchant_id)

    @classmethod
    def subject_for(
        cls, merchant_id: int, subject_id: int, values: dict[str, Any]
    ) -> tuple[str, dict[str, Any]] | None:
        """The subject's label and the inputs as that subject writes them; None when it is not the account's.

        A set whose inputs depend on the subject (an order number as one
        platform writes it) overrides this and raises InputError for input
        the subject cannot take.
        """
        label = account_directory().subject_label(merchant_id, subject_id)
        return (label, values) if label is not None else None

    # --- words ----------------------------------------------------------------

    @classmethod
    def about(cls, reference: str) -> str:
        """What the diagnosis is about, in the summary's words ("order #1004"); "" without a reference."""
        return cls.say(cls.words.about, reference=reference) if reference else ""

    @classmethod
    def say(cls, template: str, *, reference: str = "", **values) -> Said:
        """One of the summary's sentences (one of ``words``), as a message with its placeholders' values."""
        return Said(template, {"reference": reference, **values})


_SETS: dict[str, type[CheckSet]] = {}


def register_set(check_set: type[CheckSet]) -> type[CheckSet]:
    """Class decorator: make a check set available under its ``key``."""
    existing = _SETS.get(check_set.key)
    if existing is not None and existing is not check_set:
        raise ValueError(f"Two check sets claim the key {check_set.key!r}.")
    _SETS[check_set.key] = check_set
    return check_set


def check_sets() -> list[type[CheckSet]]:
    return list(_SETS.values())


def sets_listing(check_key: str) -> list[str]:
    """The keys of the sets whose steps may carry this check (for the editor's chooser)."""
    return [s.key for s in _SETS.values() if check_key in s.check_keys]


def check_set_choices() -> list[tuple[str, str]]:
    """For the article's "check set" field: each set by the article it was written for."""
    return [(s.key, s.title) for s in _SETS.values()]


def default_check_set_key() -> str:
    """The set a new article gets: the first registered."""
    return next(iter(_SETS), "")


def get_set(key: str | None) -> type[CheckSet] | None:
    return _SETS.get(key or "")


def set_of(page) -> type[CheckSet]:
    """The check set ``page`` declares (the first registered for a page that names none known)."""
    found = get_set(getattr(page, "check_set", ""))
    if found is None:
        found = get_set(default_check_set_key())
    if found is None:
        raise RuntimeError("No check set is registered: is apps.commerce installed?")
    return found
