"""Incidents: one check failing for many stores on one platform at once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.checks.registry import get_check
from apps.platforms.fields import PlatformField
from kitty_troubleshoot.said import SaidField


class Incident(models.Model):
    """One episode of a check failing (or not being checkable) for many merchants of one platform.

    Opened by the beat task, confirmed or dismissed by people, resolved by the
    beat task when the failures fall back. Only a confirmed incident is shown
    to merchants. ``resolved_at`` ends the episode whatever its state, so a
    dismissed incident keeps a new one from opening until the failures stop.
    """

    class State(models.TextChoices):
        OPEN = "open", _("Open (not shown yet)")
        CONFIRMED = "confirmed", _("Confirmed (shown to merchants)")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    # The state in a word, as an incident's name says it ("Shopify: Plugin authorized? (open)").
    STATE_WORDS = {
        State.OPEN: pgettext_lazy("an incident's state", "open"),
        State.CONFIRMED: pgettext_lazy("an incident's state", "confirmed"),
        State.RESOLVED: pgettext_lazy("an incident's state", "resolved"),
        State.DISMISSED: pgettext_lazy("an incident's state", "dismissed"),
    }

    check_key = models.CharField(_("check"), max_length=64)
    platform = PlatformField(_("platform"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    wording = models.TextField(
        _("wording"),
        max_length=500,
        help_text=_(
            "What merchants of this platform read on the step and on the ticket form once confirmed."
        ),
    )
    # The wording the beat task wrote, as a message: merchants read it in their own language until
    # someone edits the wording (then the edited text is what they read).
    said = SaidField(_("wording as a message"), null=True, blank=True, editable=False)

    # The figures that opened it.
    window_minutes = models.PositiveIntegerField(_("window (minutes)"))
    share = models.FloatField(
        _("share"), help_text=_("Share of merchants whose latest run failed or couldn't check.")
    )
    runs = models.PositiveIntegerField(_("runs"), help_text=_("Finished runs in the window."))
    merchants = models.PositiveIntegerField(
        _("merchants"), help_text=_("Distinct merchants who ran the check in the window.")
    )
    failing_merchants = models.PositiveIntegerField(
        _("failing merchants"), help_text=_("Of those, merchants whose latest run did not pass.")
    )
    # The figures as of the latest beat tick, so people can see whether it is still going on.
    latest_share = models.FloatField(_("latest share"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)

    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(
        _("resolved at"),
        null=True,
        blank=True,
        help_text=_(
            "When the failures fell back. A dismissed incident ends then too; until then no new one opens."
        ),
    )

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
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
        return gettext("%(platform)s: %(check)s (%(state)s)") % {
            "platform": self.platform_label,
            "check": self.check_title,
            "state": self.STATE_WORDS.get(self.state, self.state),
        }

    @property
    def note_is_a_message(self) -> bool:
        """Whether the wording is still the beat task's, which every merchant reads in their own language."""
        return bool(self.said) and self.wording == str.__str__(self.said)

    @property
    def note(self):
        """What merchants read: the wording as a message while nobody edited it, else as it was written."""
        return self.said if self.note_is_a_message else self.wording

    @property
    def check_title(self) -> str:
        check = get_check(self.check_key)
        return check.title if check is not None else self.check_key

    @property
    def platform_label(self) -> str:
        return self.get_platform_display()

    @property
    def share_percent(self) -> str:
        return _percent(self.share)

    @property
    def latest_share_percent(self) -> str:
        return _percent(self.latest_share) if self.latest_share is not None else "—"

    @property
    def shown_to_merchants(self) -> bool:
        return self.state == self.State.CONFIRMED


def _percent(share: float) -> str:
    """A share as a percentage the reader writes ("50%", "50 %")."""
    return gettext("%(percent)s%%") % {"percent": round(share * 100)}
