"""A merchant's Commerce Kitty account: channels, plugins, catalog and orders."""

from __future__ import annotations

from dataclasses import replace

import httpx
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.platforms.base import Capabilities, Connection, PlatformClient
from apps.platforms.fields import PlatformField
from apps.platforms.registry import Provider, provider
from kitty_troubleshoot.said import Said, SaidColumns, SaidField, said, said_p

from .fields import EncryptedJSONField


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # A sandbox account for previewing articles: checks run in an editor's
    # preview read and fix this account only, never a merchant's.
    preview_editor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="preview_sandbox",
        verbose_name=_("preview editor"),
        help_text=_(
            "Set on the sandbox account an editor's article previews check; empty for real merchants."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="one_membership_per_user")]

    def __str__(self):
        return f"{self.user} · {self.merchant} ({self.get_role_display()})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class Channel(models.Model):
    """A selling context: a web store, a marketplace, a wholesale portal."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=50)
    hostname = models.CharField(_("hostname"), max_length=255, blank=True)
    base_currency = models.CharField(_("base currency"), max_length=3, default="USD")
    default_locale = models.CharField(_("default locale"), max_length=10, default="en-US")

    class Meta:
        ordering = ["name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="channel_code_unique_per_merchant")
        ]

    def __str__(self):
        return self.name


class Plugin(models.Model):
    """One connection to an external platform: its credentials and sync toggles."""

    class Authorization(models.TextChoices):
        UNKNOWN = "unknown", _("Not checked yet")
        AUTHORIZED = "authorized", _("Authorized")
        REVOKED = "revoked", _("Authorization error")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="plugins")
    platform = PlatformField()
    name = models.CharField(_("name"), max_length=200)
    channels = models.ManyToManyField(Channel, related_name="plugins", blank=True, verbose_name=_("channels"))

    # "Import Orders" is the name of the toggle in Commerce Kitty's own screens: kept as it is there.
    import_orders = models.BooleanField(_("Import Orders"), default=False)
    import_orders_enabled_at = models.DateTimeField(
        _("Import Orders turned on at"),
        null=True,
        blank=True,
        help_text=_("Set whenever Import Orders is turned on."),
    )
    sync_inventory = models.BooleanField(_("sync inventory"), default=False)
    sync_prices = models.BooleanField(_("sync prices"), default=False)
    sync_shipments = models.BooleanField(_("sync shipments"), default=False)

    credentials = EncryptedJSONField(_("credentials"), blank=True, default=dict)
    authorization_status = models.CharField(
        _("authorization status"), max_length=12, choices=Authorization.choices, default=Authorization.UNKNOWN
    )
    authorization_error = models.CharField(_("authorization error"), max_length=300, blank=True)
    authorization_checked_at = models.DateTimeField(_("authorization checked at"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    rate_limited_until = models.DateTimeField(_("rate limited until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("plugin")
        verbose_name_plural = _("plugins")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Turning Import Orders on, from anywhere (admin, a fix, the shell),
        # records when: orders placed before that moment are not imported.
        turned_on = self.import_orders and not getattr(self, "_import_orders_was_on", False)
        # A new row may bring its own moment (an import of existing plugins).
        if turned_on and not (self._state.adding and self.import_orders_enabled_at):
            self.import_orders_enabled_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "import_orders_enabled_at"}
        super().save(*args, **kwargs)
        self._import_orders_was_on = self.import_orders

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._import_orders_was_on = instance.__dict__.get("import_orders")
        return instance

    def client(self, *, timeout: httpx.Timeout | None = None) -> PlatformClient:
        connection = Connection(
            bucket=f"plugin:{self.pk}",
            credentials=dict(self.credentials),
            credentials_renewed=self.keep_renewed_credentials,
        )
        if timeout is not None:
            connection = replace(connection, timeout=timeout)
        return self.provider.build_client(connection)

    def keep_renewed_credentials(self, changed: dict) -> None:
        """Merge credentials the platform renewed by itself (a refreshed token) into the stored ones.

        The row is locked while merging: two syncs refreshing at once must
        not write back each other's older fields.
        """
        if self.pk is None or not changed:
            return
        with transaction.atomic():
            row = Plugin.objects.select_for_update().only("credentials").get(pk=self.pk)
            merged = {**row.credentials, **changed}
            Plugin.objects.filter(pk=self.pk).update(credentials=merged)
        self.credentials = {**self.credentials, **changed}

    @property
    def provider(self) -> Provider:
        """What the plugin's platform can do, and its authorization flow."""
        return provider(self.platform)

    @property
    def capabilities(self) -> Capabilities:
        return self.client().capabilities

    def is_rate_limited(self, now=None) -> bool:
        return bool(self.rate_limited_until and self.rate_limited_until > (now or timezone.now()))


class Product(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="products")
    code = models.CharField(
        _("SKU"), max_length=100, help_text=_("Imports match order lines on this, exactly.")
    )
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="product_code_unique_per_merchant")
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Customer(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField(_("email"), max_length=254)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["email"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "email"], name="customer_email_unique_per_merchant")
        ]

    def __str__(self):
        return self.email


class Order(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="orders")
    # Empty for an order created by hand (the order wizard): no plugin imported it, it has no
    # source order id, and ``imported_at`` is when it was created.
    plugin = models.ForeignKey(Plugin, on_delete=models.PROTECT, related_name="orders", null=True, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    source_order_id = models.CharField(_("source order id"), max_length=100)
    number = models.CharField(_("number"), max_length=64)
    placed_at = models.DateTimeField(_("placed at"))
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    platform_status = models.CharField(_("platform status"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["plugin", "source_order_id"], name="order_imported_once_per_plugin"
            )
        ]
        indexes = [models.Index(fields=["merchant", "number"])]

    def __str__(self):
        return f"#{self.number}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(_("SKU"), max_length=100)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    title = models.CharField(_("title"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class Notification(SaidColumns, models.Model):
    """What the notifications bell shows: one row per problem, counted while it repeats."""

    said_columns = {"message": "said", "resolution": "resolution_said"}

    class Kind(models.TextChoices):
        MISSING_PRODUCT = "missing_product", _("Missing product")
        MISSING_CUSTOMER_FIELDS = "missing_customer_fields", _("Missing customer fields")
        RATE_LIMIT = "rate_limit", _("API rate limit")
        AUTHORIZATION = "authorization", _("Authorization error")
        CHANNEL_CONFLICT = "channel_conflict", _("Channel conflict")
        UNREADABLE_ORDER = "unreadable_order", _("Order could not be read")
        # What a watch on a missing order found ("Tell me when it arrives").
        ORDER_ARRIVED = "order_arrived", _("Order arrived")
        ORDER_STILL_MISSING = "order_still_missing", _("Order still missing")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="notifications")
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="notifications", null=True)
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # The text in English, as searched; ``said`` keeps it as a message, so the merchant reads it in
    # their own language whenever they open the inbox (a loaded row's ``message`` is that message).
    message = models.CharField(_("message"), max_length=500)
    said = SaidField(null=True, blank=True, help_text=_("The message, read in the reader's language."))
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    occurrences = models.PositiveIntegerField(_("occurrences"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    read = models.BooleanField(_("read"), default=False)
    # Set when what it reports stopped being so (a fix, or a sync the rule let through): the
    # inbox says so, and the bell no longer counts it. A repeat after that is a new notification.
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(
        _("resolution"), max_length=300, blank=True, help_text=_("What resolved it, in words.")
    )
    resolution_said = SaidField(
        null=True, blank=True, help_text=_("The resolution, read in the reader's language.")
    )

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["plugin", "order_number", "kind"])]

    def __str__(self):
        return self.message

    @classmethod
    def message_fields(cls, message) -> dict:
        """The columns a notification's message is written to: its English text, and the message itself."""
        return cls.said_values("message", message)

    @classmethod
    def resolution_fields(cls, how) -> dict:
        """The columns what resolved a notification is written to, as ``message_fields``."""
        return cls.said_values("resolution", how)

    @property
    def kind_said(self) -> Said:
        """The kind's name as a message (to go into a sentence that is stored, as a step's evidence)."""
        return KIND_SAID.get(self.kind) or said_p("a notification's kind", "Notification")


# The same names as the kinds' labels, as messages: a label in a stored sentence must stay a message.
KIND_SAID = {
    Notification.Kind.MISSING_PRODUCT: said("Missing product"),
    Notification.Kind.MISSING_CUSTOMER_FIELDS: said("Missing customer fields"),
    Notification.Kind.RATE_LIMIT: said("API rate limit"),
    Notification.Kind.AUTHORIZATION: said("Authorization error"),
    Notification.Kind.CHANNEL_CONFLICT: said("Channel conflict"),
    Notification.Kind.UNREADABLE_ORDER: said("Order could not be read"),
    Notification.Kind.ORDER_ARRIVED: said("Order arrived"),
    Notification.Kind.ORDER_STILL_MISSING: said("Order still missing"),
}


class SyncRun(SaidColumns, models.Model):
    said_columns = {"message": "said"}

    class Mode(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Manual")
        BACKFILL = "backfill", _("Backfill")

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        BLOCKED = "blocked", _("Blocked")  # a plugin rule failed: nothing was fetched
        RATE_LIMITED = "rate_limited", _("Rate limited")
        NOT_AUTHORIZED = "not_authorized", _("Not authorized")
        FAILED = "failed", _("Failed")

    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="sync_runs")
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    since = models.DateTimeField(_("since"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    seen = models.PositiveIntegerField(_("seen"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    already_imported = models.PositiveIntegerField(_("already imported"), default=0)
    not_imported = models.PositiveIntegerField(_("not imported"), default=0)
    outcome = models.CharField(_("outcome"), max_length=15, choices=Outcome.choices, default=Outcome.RUNNING)
    # In English, as logged and searched; ``said`` keeps it as a message (a loaded run's ``message``).
    message = models.CharField(_("message"), max_length=500, blank=True)
    said = SaidField(null=True, blank=True, help_text=_("The message, read in the reader's language."))
    resume_from = models.DateTimeField(
        _("resume from"),
        null=True,
        blank=True,
        help_text=_("Where a time-boxed sync stopped; a background sync imports the rest from here."),
    )
    blocked_orders = SaidField(
        _("blocked orders"),
        default=dict,
        blank=True,
        help_text=_(
            "Order number → the rules that kept it out of Commerce Kitty (the first "
            "BLOCKED_ORDERS_KEPT orders), so a merchant's Sync now can say why."
        ),
    )

    BLOCKED_ORDERS_KEPT = 200

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")

    def __str__(self):
        return f"{self.get_mode_display()} sync of {self.plugin} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def outcome_said(self) -> Said:
        """How the run ended, in a few words that go into a sentence ("Last sync: … (blocked)")."""
        return OUTCOME_SAID.get(self.outcome) or OUTCOME_SAID[SyncRun.Outcome.FAILED]


# A sync's outcome as it reads inside a sentence, as messages (stored with the sentence).
OUTCOME_SAID = {
    SyncRun.Outcome.RUNNING: said_p("a sync's outcome, inside a sentence", "running"),
    SyncRun.Outcome.SUCCEEDED: said_p("a sync's outcome, inside a sentence", "succeeded"),
    SyncRun.Outcome.BLOCKED: said_p("a sync's outcome, inside a sentence", "blocked"),
    SyncRun.Outcome.RATE_LIMITED: said_p("a sync's outcome, inside a sentence", "rate limited"),
    SyncRun.Outcome.NOT_AUTHORIZED: said_p("a sync's outcome, inside a sentence", "not authorized"),
    SyncRun.Outcome.FAILED: said_p("a sync's outcome, inside a sentence", "failed"),
}


class AuthorizationState(models.Model):
    """One Reauthorize in progress: the opaque ``state`` a platform hands back, kept server-side.

    Only a hash of the token is stored, so a database reader cannot finish
    someone's authorization. The row binds the flow to the user who started
    it and to one plugin; it expires in minutes and is used once.
    WooCommerce's server POSTs the new keys before the merchant comes back,
    so they wait here (encrypted) until that same user returns signed in.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="+")
    next_url = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    received_credentials = EncryptedJSONField(blank=True, default=dict)
    # Secrets the platform's flow keeps until it answers (a PKCE code verifier).
    kept = EncryptedJSONField(blank=True, default=dict)
    received_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Reauthorize {self.plugin} by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"
