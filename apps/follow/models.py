"""Watches on missing orders, and who wants e-mail about them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class OrderWatch(models.Model):
    """ "Tell me when it arrives": one account waiting for one order through one plugin.

    It follows the plugin's syncs until the order is imported, or until its
    deadline, when the diagnosis runs once more and says what still stands in
    the way. Either way it ends with one notification and one e-mail.
    """

    class State(models.TextChoices):
        WATCHING = "watching", "Watching"
        ARRIVED = "arrived", "Arrived"
        STILL_MISSING = "still_missing", "Still missing at the deadline"
        CANCELLED = "cancelled", "Cancelled"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey("commerce.Merchant", on_delete=models.CASCADE, related_name="watches")
    plugin = models.ForeignKey("commerce.Plugin", on_delete=models.CASCADE, related_name="watches")
    order_number = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="order_watches",
        verbose_name="asked by",
    )
    # The diagnosis it was asked from; its article is where the links lead.
    diagnosis = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.WATCHING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(
        db_index=True, help_text="When it re-checks once and ends if the order is still missing."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    # What it found: the imported order, or the diagnosis run again at the deadline.
    order = models.ForeignKey(
        "commerce.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recheck = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result = models.TextField(blank=True, help_text="What the merchant was told.")
    notification = models.ForeignKey(
        "commerce.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The e-mail is sent once: claimed by one sender, then marked sent (or skipped by the user's choice).
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_skipped = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "order watches"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "plugin", "order_number"],
                condition=models.Q(state="watching"),
                name="one_watch_per_order",
            )
        ]

    def __str__(self):
        return f"Watch for order #{self.order_number} ({self.get_state_display()})"

    @property
    def is_watching(self) -> bool:
        return self.state == self.State.WATCHING


class EmailPreference(models.Model):
    """What a user wants by e-mail; the in-app notifications are always there."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    watch_emails = models.BooleanField("e-mail me what a watched order did", default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"E-mail preferences of {self.user}"
