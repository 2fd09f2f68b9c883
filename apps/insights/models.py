"""What editors learn from readers: daily outcome figures per article and revision, votes, searches.

The outcome tables are filled by a scheduled task from the check runs and
hold counts only, never a merchant, a user or an order: the report reads
nothing else, so it stays fast however many runs there are and shows
editors aggregates alone.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ArticleDay(models.Model):
    """The diagnoses started on one article on one day (UTC), by the revision they followed."""

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    # A plain id, not a foreign key: figures outlive revisions an editor purges. 0: not recorded.
    revision_id = models.PositiveBigIntegerField(default=0)
    day = models.DateField()
    diagnoses = models.PositiveIntegerField(default=0)
    # How each diagnosis ended (its summary's state): the counts add up to ``diagnoses``.
    with_cause = models.PositiveIntegerField(default=0)
    incomplete = models.PositiveIntegerField(default=0)
    all_passed = models.PositiveIntegerField(default=0)
    already_here = models.PositiveIntegerField(default=0)
    unfinished = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(_("ended in a ticket"), default=0)
    order_arrived = models.PositiveIntegerField(_("order imported within a day"), default=0)
    fixed = models.PositiveIntegerField(_("a fix was applied"), default=0)

    class Meta:
        default_permissions = ()
        permissions = [("view_outcomes", _("Can see how articles' steps turn out (aggregates only)"))]
        constraints = [
            models.UniqueConstraint(fields=["page", "revision_id", "day"], name="article_day_once")
        ]
        indexes = [models.Index(fields=["page", "day"])]

    def __str__(self):
        return f"page {self.page_id}, revision {self.revision_id}, {self.day}"


class StepDay(models.Model):
    """One step of one article on one day, by revision: how it turned out in the diagnoses that ran it."""

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    revision_id = models.PositiveBigIntegerField(default=0)
    day = models.DateField()
    block_id = models.CharField(max_length=64)
    step_number = models.PositiveSmallIntegerField(null=True)
    check_key = models.CharField(max_length=64)
    checked = models.PositiveIntegerField(_("diagnoses that checked it"), default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(_("couldn't check"), default=0)
    cause = models.PositiveIntegerField(_("the most likely cause"), default=0)
    # Why it couldn't be checked: {reason: count}, reasons stripped of numbers and names.
    unknown_reasons = models.JSONField(default=dict)
    # {fix key: {"label", "offered", "applied", "imported"}}, counted in diagnoses.
    fixes = models.JSONField(default=dict)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["page", "revision_id", "day", "block_id"], name="step_day_once")
        ]
        indexes = [models.Index(fields=["page", "day"])]

    def __str__(self):
        return f"page {self.page_id}, step {self.step_number}, {self.day}"


class HelpfulVote(models.Model):
    """A reader's answer to "Was this helpful?" for one revision of an article; one per reader."""

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    revision_id = models.PositiveBigIntegerField(default=0)
    # A keyed hash of the reader's account or cookie: tells votes apart, names nobody.
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)  # plain text, escaped wherever it is shown
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(fields=["page", "revision_id", "voter"], name="one_vote_per_revision")
        ]
        indexes = [models.Index(fields=["page", "revision_id"])]

    def __str__(self):
        return f"{'helpful' if self.helpful else 'not helpful'} · page {self.page_id}"


class SearchLog(models.Model):
    """One search of the help center: what was asked and what came of it, about no one."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    query = models.CharField(max_length=200, db_index=True)  # normalized: lower case, single spaces
    results = models.PositiveIntegerField()
    clicked_page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    clicked_step = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self):
        return f"“{self.query}” · {self.results} results"
