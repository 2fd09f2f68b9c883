"""The shapes the JSON API and the MCP server answer with (one set, so both say the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

# Text a caller sends is plain text: no NUL or other control characters (the database refuses NUL).
PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
ID_MAX = 2**63 - 1


class ProblemOut(Schema):
    """An RFC 9457 problem document: why the request was not done, and what to do."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = Field(None, description="The input at fault, when one is.")
    retry_after: int | None = Field(None, description="Seconds to wait before trying again.")


class CheckOut(Schema):
    key: str
    title: str


class InputOut(Schema):
    name: str = Field(description="The key to send in a diagnosis' `inputs`.")
    label: str
    kind: Literal["text", "date"]
    optional: bool
    placeholder: str
    identifies: bool = Field(description="What a diagnosis is about (e.g. the order number).")


class CheckSetOut(Schema):
    key: str
    title: str
    subject: str = Field(description="What `plugin_id` names for this article.")
    inputs: list[InputOut]


class StepOut(Schema):
    number: int
    title: str
    text: str = Field(description="The step's instructions as plain text.")
    url: str
    check: CheckOut | None = Field(description="The check that runs for this step, if it carries one.")


class ArticleRefOut(Schema):
    id: int
    slug: str
    title: str
    language: str = Field(description='The language it is written in ("en", "de", "fr").')
    url: str


class ArticleListOut(ArticleRefOut):
    summary: str
    checks: int = Field(description="How many steps carry a check.")


class ArticleOut(ArticleRefOut):
    summary: str
    check_set: CheckSetOut
    steps: list[StepOut]


class SearchHitOut(Schema):
    article: ArticleRefOut
    step: int | None = Field(description="The step that best matches, if the match is in a step.")
    url: str
    snippet: str = Field(description="Plain text around the words found.")


class PluginOut(Schema):
    id: int
    name: str
    platform: str
    platform_name: str
    import_orders: bool
    authorization: str
    last_synced_at: datetime | None


class ChoiceOut(Schema):
    value: str
    label: str


class FixOut(Schema):
    key: str
    label: str
    description: str
    kind: Literal["apply", "link"] = Field(
        description="`apply`: POST it to the diagnosis' fixes; `link`: a person opens `url` in a browser."
    )
    url: str | None
    choices: list[ChoiceOut] = Field(description="Send one of these values as `choice`.")
    choice_label: str
    can_apply: bool = Field(description="Whether this token can apply it now.")
    why_not: str = Field(description="Why it cannot be applied now, in words (empty when it can).")


class AppliedFixOut(Schema):
    key: str
    result: str
    by: str
    at: str


class StepResultOut(Schema):
    step: int | None = Field(description="The step's number; null for the check that runs before Step 1.")
    title: str
    check_key: str
    status: Literal["idle", "running", "passed", "failed", "unknown"]
    status_label: str
    verdict: str = Field(description="The result in one sentence, as the article shows it.")
    evidence: list[str]
    see_step: int | None = Field(description="Another step this result points at.")
    fixes: list[FixOut]
    fixes_applied: list[AppliedFixOut]
    checked_at: datetime | None
    url: str


class SummaryLineOut(Schema):
    text: str
    step: int | None
    url: str | None


class WatchOfferOut(Schema):
    possible: bool
    why_not: str


class SummaryOut(Schema):
    state: Literal["idle", "running", "already_here", "nothing_here", "cause", "incomplete", "passed"]
    tone: Literal["passed", "failed", "unknown"]
    done: bool
    headline: str
    lines: list[SummaryLineOut]
    cause_step: int | None = Field(description="The step most likely to be the cause, once known.")
    passed: int
    finished: int
    total: int
    retry_at: datetime | None
    watch: WatchOfferOut


class PluginRefOut(Schema):
    id: int
    name: str


class DiagnosisOut(Schema):
    id: UUID
    about: str = Field(description='What it is about, e.g. "order #1004".')
    article: ArticleRefOut | None
    plugin: PluginRefOut
    inputs: dict[str, str]
    created_at: datetime
    updated_at: datetime
    done: bool
    summary: SummaryOut
    before_step_one: StepResultOut | None
    steps: list[StepResultOut]


class DiagnosisListOut(Schema):
    id: UUID
    about: str
    article: ArticleRefOut | None
    plugin: PluginRefOut
    updated_at: datetime


class DiagnosisIn(Schema):
    article: str = Field(min_length=1, max_length=255, pattern=PLAIN, description="The article's slug or id.")
    plugin_id: int = Field(ge=1, le=ID_MAX, description="One of your plugins (GET /plugins).")
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="The article's inputs by name (GET /articles/{ref}: check_set.inputs).",
        max_length=20,
    )
    step: int | None = Field(
        None, ge=1, le=999, description="Check only this step; leave out to check every step."
    )


class CheckIn(Schema):
    step: int = Field(ge=1, le=999, description="The step to check again, with the diagnosis' inputs.")


class FixIn(Schema):
    step: int | None = Field(
        None,
        ge=1,
        le=999,
        description="The step whose result offered the fix; null for the check before Step 1.",
    )
    fix: str = Field(min_length=1, max_length=64, pattern=PLAIN, description="The fix's key.")
    choice: str = Field("", max_length=200, pattern=PLAIN, description="For a fix with choices: one value.")


class WatchIn(Schema):
    diagnosis: UUID = Field(description="A diagnosis of the missing order, run to its end.")


class WatchOut(Schema):
    id: UUID
    order_number: str
    plugin: PluginRefOut
    state: Literal["watching", "arrived", "still_missing", "cancelled"]
    state_label: str
    created_at: datetime
    deadline: datetime
    ended_at: datetime | None
    result: str
    diagnosis: UUID | None


class NotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    message: str
    order_number: str
    plugin: PluginRefOut | None
    occurrences: int
    created_at: datetime
    last_seen_at: datetime
    read: bool
    resolved_at: datetime | None
    resolution: str
    url: str | None = Field(description="The article step that explains it.")
