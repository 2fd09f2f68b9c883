"""Incidents: one check failing for many stores on one platform at once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.checks.registry import get_check
from apps.platforms.fields import PlatformField


class Incident(models.Model):
    """One episode of a check failing (or not being checkable) for many merchants of one platform.

    Opened by the beat task, confirmed or dismissed by people, resolved by the
    beat task when the failures fall back. Only a confirmed incident is shown
    to merchants. ``resolved_at`` ends the episode whatever its state, so a
    dismissed incident keeps a new one from opening until the failures stop.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open (not shown yet)"
        CONFIRMED = "confirmed", "Confirmed (shown to merchants)"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    check_key = models.CharField("check", max_length=64)
    platform = PlatformField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    wording = models.TextField(
        max_length=500,
        help_text="What merchants of this platform read on the step and on the ticket form once confirmed.",
    )

    # The figures that opened it.
    window_minutes = models.PositiveIntegerField()
    share = models.FloatField(help_text="Share of merchants whose latest run failed or couldn't check.")
    runs = models.PositiveIntegerField(help_text="Finished runs in the window.")
    merchants = models.PositiveIntegerField(help_text="Distinct merchants who ran the check in the window.")
    failing_merchants = models.PositiveIntegerField(
        help_text="Of those, merchants whose latest run did not pass."
    )
    # The figures as of the latest beat tick, so people can see whether it is still going on.
    latest_share = models.FloatField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    opened_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the failures fell back. A dismissed incident ends then too; until then no new one opens.",
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One ongoing episode per check and platform, whatever beat ticks overlap.
            models.UniqueConstraint(
                fields=["check_key", "platform"],
                condition=Q(resolved_at__isnull=True),
                name="incident_one_ongoing_per_check_and_platform",
            )
        ]
        indexes = [models.Index(fields=["platform", "state"])]

    def __str__(self):
        return (
            f"{self.platform_label}: {self.check_title} ({self.get_state_display().split(' (')[0].lower()})"
        )

    @property
    def check_title(self) -> str:
        check = get_check(self.check_key)
        return check.title if check is not None else self.check_key

    @property
    def platform_label(self) -> str:
        return self.get_platform_display()

    @property
    def share_percent(self) -> str:
        return f"{self.share:.0%}"

    @property
    def latest_share_percent(self) -> str:
        return f"{self.latest_share:.0%}" if self.latest_share is not None else "—"

    @property
    def shown_to_merchants(self) -> bool:
        return self.state == self.State.CONFIRMED
