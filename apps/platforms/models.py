"""The built-in demo marketplace: stores and orders that admins edit in Django admin.

``SandboxClient`` (``sandbox.py``) reads these tables exactly as the Shopify
and WooCommerce clients read their APIs, so every troubleshooting step can
be demonstrated, and tested, without the internet.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.platforms.base import (
    Capabilities,
    ImportOutcome,
    OrderState,
    StatusTable,
    StatusWord,
    normalize_order_number,
)
from kitty_troubleshoot.said import said, said_p

# Ten years is more history than any platform shows (Amazon: two); the cap
# also keeps "now - history_days" inside the calendar.
HISTORY_DAYS_MAX = 3650


def new_access_token() -> str:
    """A fresh random token for a demo store."""
    return f"demo_{secrets.token_urlsafe(24)}"


class SandboxStore(models.Model):
    """A demo store; its flags let an admin stage every failure a real platform has."""

    handle = models.SlugField(
        _("handle"), unique=True, help_text=_("What a plugin's credentials name as 'store'.")
    )
    name = models.CharField(_("name"), max_length=200)
    access_token = models.CharField(
        _("access token"),
        max_length=100,
        default=new_access_token,
        help_text=_("The one token accepted; rotating it de-authorizes plugins."),
    )
    reject_credentials = models.BooleanField(
        _("reject credentials"),
        default=False,
        help_text=_("Refuse every call as if the app had been disconnected."),
    )
    throttled_until = models.DateTimeField(
        _("throttled until"), null=True, blank=True, help_text=_("Until then, every call is rate limited.")
    )
    history_days = models.PositiveIntegerField(
        _("history days"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(HISTORY_DAYS_MAX)],
        # A message, rendered in the reader's language as lazy text is (its value stays English).
        help_text=said(
            "Only orders this recent are visible (Shopify: 60), at most %(days)s. Empty: all.",
            days=HISTORY_DAYS_MAX,
        ),
    )
    supports_backfill = models.BooleanField(_("supports backfill"), default=True)
    supports_manual_sync = models.BooleanField(_("supports manual sync"), default=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["handle"]
        verbose_name = _("demo store")
        verbose_name_plural = _("demo stores")

    def __str__(self) -> str:
        return f"{self.name} ({self.handle})"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            backfill=self.supports_backfill,
            manual_sync=self.supports_manual_sync,
            history_days=self.history_days,
        )

    def rotate_token(self) -> str:
        """Issue and save a new access token (the demo's reauthorization); returns it."""
        self.access_token = new_access_token()
        self.save(update_fields=["access_token"])
        return self.access_token

    def visible_since(self, now: datetime | None = None) -> datetime | None:
        """The oldest placed_at the store still shows, or None when it shows everything."""
        if self.history_days is None:
            return None
        try:
            return (now or timezone.now()) - timedelta(days=self.history_days)
        except OverflowError:
            # A window reaching back past year 1 (saved before the cap, or
            # by an update() that skips validators) shows everything.
            return None


class SandboxOrderStatus(models.TextChoices):
    """The demo marketplace's own words; each maps onto exactly one OrderState."""

    PAID = "paid", _("paid")
    PENDING_PAYMENT = "pending_payment", _("awaiting payment")
    ON_HOLD = "on_hold", _("held for review")
    CANCELLED = "cancelled", _("cancelled")
    REFUNDED = "refunded", _("refunded")
    FAILED = "failed", _("payment failed")
    CHECKOUT = "checkout", _("in checkout")


# The status as the demo marketplace words it for a plugin (an order's platform status): a message,
# so Step 6 quotes it in its reader's language; its value stays the English word a search finds.
DEMO_WORDS = {
    SandboxOrderStatus.PAID: said("paid"),
    SandboxOrderStatus.PENDING_PAYMENT: said("awaiting payment"),
    SandboxOrderStatus.ON_HOLD: said("held for review"),
    SandboxOrderStatus.CANCELLED: said("cancelled"),
    SandboxOrderStatus.REFUNDED: said("refunded"),
    SandboxOrderStatus.FAILED: said("payment failed"),
    SandboxOrderStatus.CHECKOUT: said("in checkout"),
}


_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

# The demo marketplace's whole vocabulary: one word per status, its meaning, and its outcome.
STATUSES = StatusTable(
    "sandbox",
    [
        StatusWord(SandboxOrderStatus.PAID, "Paid and confirmed.", OrderState.IMPORTABLE, _I),
        StatusWord(
            SandboxOrderStatus.PENDING_PAYMENT,
            "Placed; the buyer has not paid yet.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer's payment"),
        ),
        StatusWord(
            SandboxOrderStatus.ON_HOLD,
            "Held for the store's review.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "you to review it on the demo marketplace"),
        ),
        StatusWord(
            SandboxOrderStatus.CHECKOUT,
            "The buyer is still in checkout.",
            OrderState.CHECKOUT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer to finish checkout"),
        ),
        StatusWord(
            SandboxOrderStatus.CANCELLED,
            "The order was cancelled.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled on the demo marketplace"),
        ),
        StatusWord(
            SandboxOrderStatus.REFUNDED,
            "The whole payment was refunded.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded in full"),
        ),
        StatusWord(
            SandboxOrderStatus.FAILED,
            "The buyer's payment failed.",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the buyer's payment failed"),
        ),
    ],
    # Every status is a choice of the model's field: an unknown one is a row that skipped validation.
    unknown=lambda word, field: StatusWord(
        word,
        "Not a demo status.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to fix the demo order's status (“%(word)s” is not one)",
            word=word,
        ),
    ),
)
SANDBOX_STATES = {SandboxOrderStatus(word.word): word.state for word in STATUSES}


def validate_lines(value: object) -> None:
    """Lines are a list of {"sku": str, "quantity": int >= 1, "title": str}."""
    if not isinstance(value, list):
        raise ValidationError(said("Lines must be a list of objects."))
    for index, line in enumerate(value, start=1):
        if not isinstance(line, dict):
            raise ValidationError(
                said("Line %(line)s must be an object with sku, quantity and title.", line=index)
            )
        if not isinstance(line.get("sku", ""), str):
            raise ValidationError(said("Line %(line)s: sku must be text.", line=index))
        quantity = line.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValidationError(
                said("Line %(line)s: quantity must be a whole number of at least 1.", line=index)
            )
        if not isinstance(line.get("title", ""), str):
            raise ValidationError(said("Line %(line)s: title must be text.", line=index))


class SandboxOrder(models.Model):
    """An order on a demo store, as the demo marketplace reports it."""

    store = models.ForeignKey(
        SandboxStore, on_delete=models.CASCADE, related_name="orders", verbose_name=_("demo store")
    )
    number = models.CharField(_("number"), max_length=40)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=20, choices=SandboxOrderStatus.choices, default=SandboxOrderStatus.PAID
    )
    lines = models.JSONField(
        _("lines"),
        default=list,
        blank=True,
        validators=[validate_lines],
        help_text=_('E.g. [{"sku": "MUG-1", "quantity": 1, "title": "Blue mug"}]'),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code, e.g. GB"))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, null=True, blank=True)
    imitates = models.CharField(
        _("speaks as"),
        max_length=30,
        blank=True,
        help_text=_(
            "A platform's key (e.g. ebay, bigcommerce): the order's status is reported in that "
            "platform's words, as its plugin would see it. Empty: the demo marketplace's own words."
        ),
    )

    class Meta:
        ordering = ["store", "placed_at", "id"]
        verbose_name = _("demo order")
        verbose_name_plural = _("demo orders")
        constraints = [
            models.UniqueConstraint(fields=["store", "number"], name="sandbox_order_number_per_store"),
        ]
        # Serves list_orders' keyset pages: one store, ordered by (placed_at, id).
        indexes = [models.Index(fields=["store", "placed_at", "id"], name="sandbox_order_store_placed")]

    def __str__(self) -> str:
        return f"#{self.number} ({self.store.handle})"  # names and numbers only: nothing to translate

    def save(self, *args, **kwargs):
        # Orders created in code skip clean(); they get the same bare number.
        self.number = normalize_order_number(self.number)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Admins type "#1001" as often as "1001"; the platform stores the bare
        # number. Normalizing here, before the uniqueness check runs, lets
        # "#1001" next to an existing 1001 be a form error rather than a 500.
        self.number = normalize_order_number(self.number)
        if not self.number:
            raise ValidationError({"number": said("An order number needs at least one letter or digit.")})
        if self.imitates:
            from apps.platforms.registry import PROVIDERS  # the table imports this module's client

            speaking = sorted(p.key for p in PROVIDERS if p.demo_statuses)
            if self.imitates not in speaking:
                raise ValidationError(
                    {
                        "imitates": said(
                            "Choose one of: %(keys)s; or leave it empty.", keys=", ".join(speaking)
                        )
                    }
                )

    @property
    def state(self) -> OrderState:
        return SANDBOX_STATES[SandboxOrderStatus(self.status)]
