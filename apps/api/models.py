"""Personal access tokens for the JSON API and the MCP server, and the calls made with them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A token a person made to let a tool (a support bot, a script) act for them in one account.

    Only a hash of the secret is kept: the token is shown once, when it is
    made. It acts for ``user`` in ``merchant_id`` alone, with its scopes, until
    it expires or is revoked, and never beyond what its user may do there.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    merchant_id = models.BigIntegerField(_("account"), db_index=True)
    name = models.CharField(max_length=80, help_text=_("What the token is for, e.g. “Support bot”."))
    scopes = models.JSONField(default=list, help_text=_("read, diagnose and/or fix."))
    # The token's public part (it starts the token), to find its row; the rest is only ever hashed.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The token page's form it was made from (a key drawn when the form is shown): sending the same
    # form again, as a reload of the answer does, makes no second token.
    form_key = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "form_key"], condition=~models.Q(form_key=""), name="one_token_per_form"
            )
        ]

    def __str__(self):
        return f"{self.name} (kt_{self.prefix}…)"

    @property
    def shown_prefix(self) -> str:
        """How people recognise the token without its secret: its first characters."""
        return f"kt_{self.prefix}…"

    def is_active(self, now=None) -> bool:
        return self.revoked_at is None and (now or timezone.now()) < self.expires_at

    def state(self, now=None) -> str:
        """ "revoked", "expired" or "active" (revoked wins: it was someone's decision)."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if (now or timezone.now()) < self.expires_at else "expired"


class ApiCall(models.Model):
    """One call through the API or the MCP server that started checks, applied a fix or changed a watch.

    Kept like the page's runs: support sees which token did what, and when.
    """

    class Door(models.TextChoices):
        API = "api", _("JSON API")
        MCP = "mcp", _("MCP server")

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="calls")
    door = models.CharField(max_length=3, choices=Door.choices)
    action = models.CharField(max_length=40, help_text=_("e.g. diagnosis.start, check.start, fix.apply"))
    diagnosis = models.ForeignKey(
        "checks.Diagnosis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run_uuids = models.JSONField(_("runs started"), default=list, blank=True)
    outcome = models.CharField(
        max_length=300, blank=True, help_text=_("What the call answered, in a sentence.")
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("API call")

    def __str__(self):
        return f"{self.action} by {self.token} at {self.at:%Y-%m-%d %H:%M:%S}"
