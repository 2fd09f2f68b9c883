"""Watches on missing orders, and who wants e-mail about them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kitty_troubleshoot.said import SaidField, lines_read


class OrderWatch(models.Model):
    """ "Tell me when it arrives": one account waiting for one order through one plugin.

    It follows the plugin's syncs until the order is imported, or until its
    deadline, when the diagnosis runs once more and says what still stands in
    the way. Either way it ends with one notification and one e-mail.
    """

    class State(models.TextChoices):
        WATCHING = "watching", _("Watching")
        ARRIVED = "arrived", _("Arrived")
        STILL_MISSING = "still_missing", _("Still missing at the deadline")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey(
        "commerce.Merchant", verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="watches"
    )
    plugin = models.ForeignKey(
        "commerce.Plugin", verbose_name=_("plugin"), on_delete=models.CASCADE, related_name="watches"
    )
    order_number = models.CharField(_("order number"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="order_watches",
        verbose_name=_("asked by"),
    )
    # The diagnosis it was asked from; its article is where the links lead.
    diagnosis = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.WATCHING, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    deadline = models.DateTimeField(
        _("deadline"),
        db_index=True,
        help_text=_("When it re-checks once and ends if the order is still missing."),
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # What it found: the imported order, or the diagnosis run again at the deadline.
    order = models.ForeignKey(
        "commerce.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recheck = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the merchant was told: in English (the API's and searches' text), and as its sentences'
    # messages, which the e-mail is written from in the watcher's language (older watches: none).
    result = models.TextField(_("result"), blank=True, help_text=_("What the merchant was told."))
    said = SaidField(
        _("result as messages"),
        default=list,
        blank=True,
        help_text=_("What the merchant was told, one sentence a line, read in the reader's language."),
    )
    notification = models.ForeignKey(
        "commerce.Notification", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The e-mail is sent once: claimed by one sender, then marked sent (or skipped by the user's choice).
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    email_skipped = models.BooleanField(_("e-mail skipped"), default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order watch")
        verbose_name_plural = _("order watches")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "plugin", "order_number"],
                condition=models.Q(state="watching"),
                name="one_watch_per_order",
            )
        ]

    def __str__(self):
        return gettext("Watch for order #%(number)s (%(state)s)") % {
            "number": self.order_number,
            "state": self.get_state_display(),
        }

    @property
    def is_watching(self) -> bool:
        return self.state == self.State.WATCHING

    @property
    def result_lines(self) -> list:
        """What the merchant was told, a sentence a line: messages, or an older watch's English lines."""
        return lines_read(self.said, self.result)


class EmailPreference(models.Model):
    """What a user wants by e-mail; the in-app notifications are always there."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    watch_emails = models.BooleanField(_("e-mail me what a watched order did"), default=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("e-mail preference")
        verbose_name_plural = _("e-mail preferences")

    def __str__(self):
        return gettext("E-mail preferences of %(user)s") % {"user": self.user}
