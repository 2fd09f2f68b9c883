"""Support tickets opened from "Still missing?", carrying the whole diagnosis."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kitty_troubleshoot.said import SaidField, lines_read

# No 0/O, 1/I/L: a reference is read aloud on the phone and typed from an e-mail.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_PREFIX = "CK-"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    """A random, human-friendly reference such as ``CK-7F3K9Q``."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    reference = models.CharField(
        _("reference"), max_length=16, unique=True, default=new_reference, editable=False
    )
    merchant_id = models.BigIntegerField(_("merchant id"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="support_tickets",
    )
    diagnosis = models.ForeignKey(
        "checks.Diagnosis",
        verbose_name=_("diagnosis"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
    )
    page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name=_("article"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    page_revision = models.ForeignKey(
        "wagtailcore.Revision",
        verbose_name=_("article revision"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The revision of the article the merchant was reading."),
    )
    order_number = models.CharField(_("order number"), max_length=64)
    platform = models.CharField(_("platform"), max_length=100, blank=True)
    plugin_label = models.CharField(_("plugin"), max_length=200, blank=True)
    plugin_id = models.BigIntegerField(_("plugin id"), null=True, blank=True)
    placed_date = models.DateField(_("placed on"), null=True, blank=True)
    tried = models.TextField(_("what they have already tried"), blank=True)
    message = models.TextField(_("anything else"), blank=True)
    # The language the merchant sent it in (their saved choice, else the page's): what they read and
    # write in. Support reads the ticket in its own language (SUPPORT_LANGUAGE, an agent's own).
    language = models.CharField(_("merchant's language"), max_length=12, blank=True)
    # The latest run of each step of the diagnosis, as it stood when the ticket was sent: its verdicts,
    # evidence and fixes kept as messages, so every reader reads them in their own language. Tickets
    # sent before that keep plain English text, read as it is.
    transcript = SaidField(_("transcript"), default=list, blank=True)
    # The diagnosis' summary when the ticket was sent: in English (searched, older tickets' only
    # wording), and as its sentences' messages (``verdict_lines``).
    verdict = models.TextField(_("verdict"), blank=True)
    verdict_said = SaidField(
        _("verdict as messages"),
        default=list,
        blank=True,
        help_text=_("The summary's sentences, read in the reader's language."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    emailed_at = models.DateTimeField(_("e-mailed to support at"), null=True, blank=True)
    # Set while one worker sends the e-mail; a send that died leaves it to go stale and be retried.
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Read-only diagnoses support ran from this ticket: what the account looks like now.
    rechecks = models.ManyToManyField(
        "checks.Diagnosis",
        blank=True,
        related_name="rechecked_tickets",
        verbose_name=_("re-checks by support"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        constraints = [
            # Two simultaneous submits for the same order cannot both open a ticket.
            models.UniqueConstraint(
                fields=["merchant_id", "plugin_id", "order_number"],
                condition=models.Q(status="open"),
                name="one_open_ticket_per_order",
            )
        ]

    def __str__(self):
        return gettext("%(reference)s · order #%(number)s") % {
            "reference": self.reference,
            "number": self.order_number,
        }

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def verdict_lines(self) -> list:
        """The summary's sentences: messages (read in the active language), or an older ticket's English lines."""
        return lines_read(self.verdict_said, self.verdict)

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
                    {
                        "status": gettext(
                            "Ticket %(reference)s is already open for this order; close it first."
                        )
                        % {"reference": duplicate}
                    }
                )
