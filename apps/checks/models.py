"""Diagnoses and the runs of checks within them: the audit trail of every click."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kitty_troubleshoot.said import SaidColumns, SaidField

from .base import Status
from .sets import get_set, set_of


class PreviewSession(models.Model):
    """One editor previewing one article: the draft's blocks as previewed, checked on a sandbox account.

    The draft is stored here when the preview is rendered, so a check started
    from the preview runs the draft's steps (numbered as the draft numbers
    them) and never a block list sent by the browser.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Empty while previewing a page that has not been saved yet.
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, null=True, related_name="+")
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=255)
    body = models.JSONField(default=list, help_text=_("The previewed draft's blocks, as stored."))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "page"], name="one_preview_session_per_editor_and_page")
        ]

    def __str__(self):
        return f"Preview of {self.title} by {self.user}"

    def article(self):
        """The previewed draft as a page object: the article the preview's checks number their steps by."""
        model = self.content_type.model_class()
        page = (model.objects.filter(pk=self.page_id).first() if self.page_id else None) or model()
        page.title = self.title
        page.body = self.body
        return page


class Diagnosis(models.Model):
    """One account looking into one thing (an order) on one subject (a plugin), with one article's check set.

    Every member of the account who checks the same order shares it, so a
    teammate sees the checks (and fixes) already done, and a check one of them
    started is not started again.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    merchant_id = models.BigIntegerField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, verbose_name=_("started by")
    )
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.SET_NULL, null=True, related_name="+")
    subject_id = models.BigIntegerField(_("plugin id"))
    subject_label = models.CharField(_("plugin"), max_length=200)
    check_set = models.CharField(max_length=64, help_text=_("The article's check set: what its inputs mean."))
    # What the diagnosis is about: the set's identifying input as stored (an order number), "" if not given.
    reference = models.CharField(max_length=64, blank=True)
    inputs = models.JSONField(
        default=dict, blank=True, help_text=_("Every input of the check set, as stored.")
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    read_only = models.BooleanField(
        default=False,
        help_text=_("Run by a support agent from a ticket: its checks look, and no fix can be applied."),
    )
    preview_session = models.ForeignKey(
        PreviewSession,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="diagnoses",
        help_text=_(
            "Run from an editor's preview, on a sandbox account: not a merchant's, and left out of statistics."
        ),
    )

    # Not a column: True on the instance just created, until its first runs are started. Such a
    # diagnosis has no runs, so a start need not look for any in flight.
    is_new = False
    # Not columns: fields changed for a start, saved with its runs (a refused start changes nothing).
    unsaved_fields: tuple[str, ...] = ()

    class Meta:
        ordering = ["-updated_at"]
        verbose_name_plural = _("diagnoses")
        indexes = [models.Index(fields=["merchant_id", "page", "subject_id", "reference"])]

    def __str__(self):
        return f"{self.subject_label}, {self.about or 'nothing typed'}"

    @property
    def set(self):
        """The check set the diagnosis was started with (the first registered, if that one is gone)."""
        return get_set(self.check_set) or set_of(None)

    @property
    def about(self) -> str:
        """What it is about, in its set's words ("order #1004"); "" when nothing identifying was typed."""
        return self.set.about(self.reference)

    def inputs_in_words(self) -> str:
        """Each input by its label, as typed ("Order number: 1004 · Placed on: 2026-11-30")."""
        shown = [(i.label, self.inputs.get(i.name) or "") for i in self.set.inputs]
        return " · ".join(f"{label}: {value}" for label, value in shown if value) or "nothing typed"

    def values(self) -> dict:
        """Its inputs as checks get them, cleaned by its set."""
        return self.set.loaded(self.inputs)


class CheckRun(SaidColumns, models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        PASSED = Status.PASSED.value, _("Passed")
        FAILED = Status.FAILED.value, _("Failed")
        UNKNOWN = Status.UNKNOWN.value, _("Couldn't check")

    IN_FLIGHT = (State.QUEUED, State.RUNNING)
    said_columns = {"summary": "said"}

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    diagnosis = models.ForeignKey(Diagnosis, on_delete=models.CASCADE, related_name="runs")
    merchant_id = models.BigIntegerField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.SET_NULL, null=True, related_name="+")
    # The article's live revision when the run was queued: what the reader was following.
    page_revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("article revision"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    block_id = models.CharField(_("step block id"), max_length=64, blank=True)
    step_number = models.PositiveSmallIntegerField(null=True, blank=True)
    check_key = models.CharField(max_length=64)
    inputs = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    # The verdict in English, as searched and counted; ``said`` keeps it as a message, so each reader
    # reads it in their own language (kitty_troubleshoot/said.py): a loaded run's ``summary`` is that message.
    summary = models.CharField(max_length=500, blank=True)
    said = SaidField(
        null=True, blank=True, help_text=_("The summary as a message, read in the reader's language.")
    )
    evidence = SaidField(default=list, blank=True)
    data = models.JSONField(default=dict, blank=True)
    fixes_offered = SaidField(default=list, blank=True)
    # A fix asked for with this run: applied by the task before the check runs.
    fix_requested = models.JSONField(default=dict, blank=True)
    fixes_applied = SaidField(default=list, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(help_text=_("A run not finished by then shows as couldn't finish."))
    task_seconds = models.FloatField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["diagnosis", "block_id", "-queued_at"]),
            models.Index(fields=["merchant_id", "check_key", "status"]),
        ]

    def __str__(self):
        from .registry import get_check

        check = get_check(self.check_key)
        step = f"Step {self.step_number}: " if self.step_number is not None else ""
        return f"{step}{check.title if check is not None else self.check_key} · {self.get_status_display()}"

    @classmethod
    def verdict_fields(cls, summary, evidence) -> dict:
        """The columns a verdict is written to: its English text, the message every reader reads, its evidence."""
        return {**cls.said_values("summary", summary), "evidence": list(evidence)}

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT

    @property
    def finished(self) -> bool:
        return not self.in_flight

    def is_overdue(self, now=None) -> bool:
        return self.in_flight and (now or timezone.now()) > self.deadline


class CheckStart(models.Model):
    """One start a person made (a diagnosis, one step, a fix), for the per-user start limits.

    Kept only as long as the limit's window: a refused start writes none,
    and starts that nobody pressed (a watch, support's look) are not counted.
    """

    class Kind(models.TextChoices):
        CHECK = "check", _("Check")
        FIX = "fix", _("Fix")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "kind", "started_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.user_id} at {self.started_at:%H:%M:%S}"
