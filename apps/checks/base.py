"""What a check is, what it gets, and what it answers.

The framework knows nothing about orders: apps register checks (a ``Check``
subclass under a stable ``key``) and an ``AccountDirectory`` that tells the
framework which subjects (e.g. plugins) a user may check.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from kitty_troubleshoot.said import said


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"  # couldn't check: say why and what to do


@dataclass(frozen=True)
class Fix:
    """A remedy offered with an outcome: a POST the framework runs, or a link elsewhere."""

    key: str
    label: str
    description: str = ""
    url: str = ""  # a link fix (e.g. "Reauthorize"); empty for a POST fix
    owner_only: bool = False
    # For fixes that need a choice: [(value, label)], e.g. which channel to keep.
    choices: tuple[tuple[str, str], ...] = ()
    choice_label: str = "Choose one"  # the label of the choice's drop-down
    # Why the fix cannot work right now, and when it will ("" when it can): shown disabled.
    unavailable: str = ""

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "url": self.url,
            "owner_only": self.owner_only,
            "choices": [list(c) for c in self.choices],
            "choice_label": self.choice_label,
            "unavailable": self.unavailable,
        }


@dataclass(frozen=True)
class Outcome:
    status: Status
    summary: str  # one sentence: the verdict
    evidence: tuple[str, ...] = ()  # lines a merchant reads under the verdict
    fixes: tuple[Fix, ...] = ()
    data: dict = field(default_factory=dict)  # structured evidence, for tickets and statistics

    @classmethod
    def passed(cls, summary: str, *evidence: str, **kwargs) -> Outcome:
        return cls(Status.PASSED, summary, tuple(evidence), **kwargs)

    @classmethod
    def failed(cls, summary: str, *evidence: str, **kwargs) -> Outcome:
        return cls(Status.FAILED, summary, tuple(evidence), **kwargs)

    @classmethod
    def unknown(cls, summary: str, *evidence: str, **kwargs) -> Outcome:
        return cls(Status.UNKNOWN, summary, tuple(evidence), **kwargs)


class Arrival(enum.StrEnum):
    """What a run found about its subject arriving by itself, kept in its data under ``ARRIVAL_KEY``.

    A diagnosis' subject may be watched ("tell me when it arrives") only when
    every failed step says it may still arrive (NOT_YET), and none says it
    never will or that there is nothing to arrive (see ``Summary.watch_refusal``).
    """

    NOT_YET = "not_yet"  # it waits for something that happens by itself (a payment, a sync, a throttle's end)
    NEVER = "never"  # cancelled, refunded, failed: it will not arrive, whatever happens next
    ABSENT = "absent"  # the source has no such thing (a mistyped number, another store's order)


ARRIVAL_KEY = "outcome"


class InputError(ValueError):
    """A merchant typed something we cannot use; the message says what to type instead."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        # The message as given: a ``Said`` stays one, to be stored and read in each reader's language.
        self.message = message


@dataclass
class CheckContext:
    """What a check runs with. ``shared`` lives for one task, across the checks of one diagnosis."""

    merchant_id: int
    user_id: int | None
    subject_id: int | None  # e.g. a plugin id, already known to belong to the merchant
    # The inputs the run was started with, cleaned by the article's check set (``CheckSet.loaded``).
    inputs: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    # A look on someone else's behalf (a support agent's re-check): the checks
    # record nothing on the account, and no fix is applied.
    read_only: bool = False

    def memo(self, key: str, compute):
        """Compute once per diagnosis task (e.g. fetching the source order), then reuse."""
        if key not in self.shared:
            try:
                self.shared[key] = (True, compute())
            except Exception as exc:  # remembered, so the next check does not ask again
                self.shared[key] = (False, exc)
        ok, value = self.shared[key]
        if not ok:
            raise value
        return value


class Check:
    """A check registered under ``key``; ``run`` must be quick and side-effect free."""

    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    # Inputs the check cannot do without (names of its set's inputs): the
    # framework refuses the start, or answers "couldn't check", with the
    # input's own ``missing`` words instead of running it.
    needs: ClassVar[tuple[str, ...]] = ()
    # For editors choosing a check for a step (the step block's chooser):
    # the article and step it was written for (no step: it runs with every
    # check, before Step 1), and the fixes it can offer, in a few words each.
    article: ClassVar[str] = ""
    step: ClassVar[int | None] = None
    fix_notes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def meant_for(cls) -> str:
        """Where the check belongs, e.g. "An Order Did Not Import, Step 1"."""
        if not cls.article:
            return ""
        if cls.step:
            return said("%(article)s, Step %(step)s", article=cls.article, step=cls.step)
        return said("%(article)s, before Step 1", article=cls.article)

    def run(self, ctx: CheckContext) -> Outcome:
        raise NotImplementedError

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        """Apply one of the fixes this check offers; return what was done, in a sentence.

        Must be idempotent (applying twice changes nothing more) and raise
        InputError for a choice that is not on offer.
        """
        raise InputError("fix", said("This check offers no such fix."))


@dataclass(frozen=True)
class AccountAccess:
    """One user's place in one merchant account.

    ``request.account`` is one of these (or None): the account the request
    works in, chosen by the user when they belong to several. Everything
    account-scoped reads ``request.account.merchant_id``.
    """

    merchant_id: int
    is_owner: bool
    role: str = ""
    merchant_name: str = ""


class AccountDirectory(Protocol):
    """Who may check what: provided by the app that owns accounts."""

    def memberships_for(self, user) -> list[AccountAccess]:
        """Every account the user belongs to, the one they work in by default first."""
        ...

    def membership_for(self, user, merchant_id: int | None = None) -> AccountAccess | None:
        """The user's membership of ``merchant_id`` (None if they are not a member).

        Without ``merchant_id``: their default account. Code serving a request
        uses ``request.account`` instead, the account the user chose.
        """
        ...

    def subject_choices(self, merchant_id: int) -> list[tuple[int, str]]: ...

    def subject_label(self, merchant_id: int, subject_id: int) -> str | None: ...

    def merchant_name_expression(self, merchant_id_field: str = "merchant_id"): ...

    def merchant_ids_named(self, text: str) -> list[int]: ...

    def preview_account(self, editor, *, rebuild: bool = False) -> int:
        """A sandbox account, never a merchant's, that ``editor``'s article previews check."""
        ...

    def preview_examples(self) -> list[tuple[str, str, str]]:
        """(order number, subject, what is wrong) for each cause the preview account reproduces."""
        ...
