"""A merchant's Commerce Kitty account: channels, plugins, catalog and orders."""

from __future__ import annotations

from dataclasses import replace

import httpx
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.platforms.base import Capabilities, Connection, PlatformClient
from apps.platforms.fields import PlatformField
from apps.platforms.registry import Provider, provider

from .fields import EncryptedJSONField


class Merchant(models.Model):
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # A sandbox account for previewing articles: checks run in an editor's
    # preview read and fix this account only, never a merchant's.
    preview_editor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="preview_sandbox",
        help_text="Set on the sandbox account an editor's article previews check; empty for real merchants.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="one_membership_per_user")]

    def __str__(self):
        return f"{self.user} · {self.merchant} ({self.get_role_display()})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class Channel(models.Model):
    """A selling context: a web store, a marketplace, a wholesale portal."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=50)
    hostname = models.CharField(max_length=255, blank=True)
    base_currency = models.CharField(max_length=3, default="USD")
    default_locale = models.CharField(max_length=10, default="en-US")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="channel_code_unique_per_merchant")
        ]

    def __str__(self):
        return self.name


class Plugin(models.Model):
    """One connection to an external platform: its credentials and sync toggles."""

    class Authorization(models.TextChoices):
        UNKNOWN = "unknown", "Not checked yet"
        AUTHORIZED = "authorized", "Authorized"
        REVOKED = "revoked", "Authorization error"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="plugins")
    platform = PlatformField()
    name = models.CharField(max_length=200)
    channels = models.ManyToManyField(Channel, related_name="plugins", blank=True)

    import_orders = models.BooleanField("Import Orders", default=False)
    import_orders_enabled_at = models.DateTimeField(
        "Import Orders turned on at",
        null=True,
        blank=True,
        help_text="Set whenever Import Orders is turned on.",
    )
    sync_inventory = models.BooleanField(default=False)
    sync_prices = models.BooleanField(default=False)
    sync_shipments = models.BooleanField(default=False)

    credentials = EncryptedJSONField(blank=True, default=dict)
    authorization_status = models.CharField(
        max_length=12, choices=Authorization.choices, default=Authorization.UNKNOWN
    )
    authorization_error = models.CharField(max_length=300, blank=True)
    authorization_checked_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

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
    code = models.CharField("SKU", max_length=100, help_text="Imports match order lines on this, exactly.")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="product_code_unique_per_merchant")
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Customer(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
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
    source_order_id = models.CharField(max_length=100)
    number = models.CharField(max_length=64)
    placed_at = models.DateTimeField()
    imported_at = models.DateTimeField(default=timezone.now)
    platform_status = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
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
    sku = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class Notification(models.Model):
    """What the notifications bell shows: one row per problem, counted while it repeats."""

    class Kind(models.TextChoices):
        MISSING_PRODUCT = "missing_product", "Missing product"
        MISSING_CUSTOMER_FIELDS = "missing_customer_fields", "Missing customer fields"
        RATE_LIMIT = "rate_limit", "API rate limit"
        AUTHORIZATION = "authorization", "Authorization error"
        CHANNEL_CONFLICT = "channel_conflict", "Channel conflict"
        UNREADABLE_ORDER = "unreadable_order", "Order could not be read"
        # What a watch on a missing order found ("Tell me when it arrives").
        ORDER_ARRIVED = "order_arrived", "Order arrived"
        ORDER_STILL_MISSING = "order_still_missing", "Order still missing"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="notifications")
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="notifications", null=True)
    order_number = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    message = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    read = models.BooleanField(default=False)
    # Set when what it reports stopped being so (a fix, or a sync the rule let through): the
    # inbox says so, and the bell no longer counts it. A repeat after that is a new notification.
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True, help_text="What resolved it, in words.")

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["plugin", "order_number", "kind"])]

    def __str__(self):
        return self.message


class SyncRun(models.Model):
    class Mode(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        MANUAL = "manual", "Manual"
        BACKFILL = "backfill", "Backfill"

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        BLOCKED = "blocked", "Blocked"  # a plugin rule failed: nothing was fetched
        RATE_LIMITED = "rate_limited", "Rate limited"
        NOT_AUTHORIZED = "not_authorized", "Not authorized"
        FAILED = "failed", "Failed"

    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="sync_runs")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    seen = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    already_imported = models.PositiveIntegerField(default=0)
    not_imported = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=15, choices=Outcome.choices, default=Outcome.RUNNING)
    message = models.CharField(max_length=500, blank=True)
    resume_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Where a time-boxed sync stopped; a background sync imports the rest from here.",
    )
    blocked_orders = models.JSONField(
        default=dict,
        blank=True,
        help_text="Order number → the rules that kept it out of Commerce Kitty (the first "
        "BLOCKED_ORDERS_KEPT orders), so a merchant's Sync now can say why.",
    )

    BLOCKED_ORDERS_KEPT = 200

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.get_mode_display()} sync of {self.plugin} at {self.started_at:%Y-%m-%d %H:%M}"


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
