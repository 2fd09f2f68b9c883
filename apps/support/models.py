"""Support tickets opened from "Still missing?", carrying the whole diagnosis."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# No 0/O, 1/I/L: a reference is read aloud on the phone and typed from an e-mail.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "CK-"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    """A random, human-friendly reference such as ``CK-7F3K9Q``."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    merchant_id = models.BigIntegerField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="support_tickets"
    )
    diagnosis = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="support_tickets"
    )
    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    page_revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name="article revision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The revision of the article the merchant was reading.",
    )
    order_number = models.CharField(max_length=64)
    platform = models.CharField(max_length=100, blank=True)
    plugin_label = models.CharField("plugin", max_length=200, blank=True)
    plugin_id = models.BigIntegerField(null=True, blank=True)
    placed_date = models.DateField("placed on", null=True, blank=True)
    tried = models.TextField("what they have already tried", blank=True)
    message = models.TextField("anything else", blank=True)
    # The latest run of each step of the diagnosis, as it stood when the ticket was sent.
    transcript = models.JSONField(default=list, blank=True)
    # The diagnosis' summary when the ticket was sent, worded as the article showed it.
    verdict = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField("e-mailed to support at", null=True, blank=True)
    # Set while one worker sends the e-mail; a send that died leaves it to go stale and be retried.
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Read-only diagnoses support ran from this ticket: what the account looks like now.
    rechecks = models.ManyToManyField(
        "checks.Diagnosis", blank=True, related_name="rechecked_tickets", verbose_name="re-checks by support"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two simultaneous submits for the same order cannot both open a ticket.
            models.UniqueConstraint(
                fields=["merchant_id", "plugin_id", "order_number"],
                condition=models.Q(status="open"),
                name="one_open_ticket_per_order",
            )
        ]

    def __str__(self):
        return f"{self.reference} · order #{self.order_number}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def clean(self):
        # Reopening must not break the one-open-ticket rule (the admin form only
        # holds ``status``, so Django's own constraint validation skips it).
        if self.status == self.Status.OPEN:
            duplicate = (
                SupportTicket.objects.filter(
                    merchant_id=self.merchant_id,
                    plugin_id=self.plugin_id,
                    order_number=self.order_number,
                    status=self.Status.OPEN,
                )
                .exclude(pk=self.pk)
                .values_list("reference", flat=True)
                .first()
            )
            if duplicate:
                raise ValidationError(
                    {"status": f"Ticket {duplicate} is already open for this order; close it first."}
                )
