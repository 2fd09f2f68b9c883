import json

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kitty_troubleshoot.admin import ReadOnlyAdmin

from .models import (
    Channel,
    Customer,
    Membership,
    Merchant,
    Notification,
    Order,
    OrderLine,
    Plugin,
    Product,
    SyncRun,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "merchant__name"]
    autocomplete_fields = ["user", "merchant"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "merchant", "hostname", "base_currency", "default_locale"]
    list_filter = ["base_currency"]
    search_fields = ["name", "code", "hostname", "merchant__name"]


class WriteOnlyTextarea(forms.Textarea):
    """Never renders its value, not even the one just typed into a form sent back with errors."""

    def format_value(self, value):
        return None


class ChannelChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, channel):
        return f"{channel.name} ({channel.code}, {channel.merchant.name})"


class PluginAdminForm(forms.ModelForm):
    """Credentials are write-only: the form never shows them, a blank field keeps them."""

    new_credentials = forms.CharField(
        label=_("Replace credentials"),
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_(
            'JSON, e.g. {"store": "main", "access_token": "…"}. Stored encrypted; '
            "leave blank to keep the current credentials (never displayed)."
        ),
    )

    class Meta:
        model = Plugin
        fields = [
            "merchant",
            "platform",
            "name",
            "channels",
            "import_orders",
            "sync_inventory",
            "sync_prices",
            "sync_shipments",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channels = self.fields["channels"]
        self.fields["channels"] = ChannelChoiceField(
            queryset=Channel.objects.select_related("merchant").order_by("merchant__name", "name"),
            required=False,
            widget=channels.widget,
            label=channels.label,
            help_text=_("Only the merchant's own channels; an importing plugin needs exactly one."),
        )
        if self.instance.pk:
            self.fields["channels"].queryset = self.fields["channels"].queryset.filter(
                merchant_id=self.instance.merchant_id
            )

    def clean(self):
        cleaned = super().clean()
        merchant = cleaned.get("merchant")
        foreign = [c for c in cleaned.get("channels") or [] if merchant and c.merchant_id != merchant.pk]
        if foreign:
            names = ", ".join(f"{c.name} ({c.merchant.name})" for c in foreign)
            self.add_error(
                "channels",
                gettext("These channels belong to another merchant: %(names)s.") % {"names": names},
            )
        return cleaned

    def clean_new_credentials(self):
        raw = self.cleaned_data["new_credentials"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError(_("Not valid JSON.")) from None
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise forms.ValidationError(_("Credentials must be a JSON object of named values."))
        return value

    def save(self, commit=True):
        credentials = self.cleaned_data.get("new_credentials")
        if credentials is not None:
            self.instance.credentials = credentials
        return super().save(commit)


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    form = PluginAdminForm
    list_display = [
        "name",
        "merchant",
        "platform",
        "import_orders",
        "channel_list",
        "authorization_status",
        "last_synced_at",
        "rate_limited_until",
    ]
    list_filter = ["platform", "import_orders", "authorization_status"]
    search_fields = ["name", "merchant__name"]
    filter_horizontal = ["channels"]
    readonly_fields = [
        "import_orders_enabled_at",
        "authorization_status",
        "authorization_error",
        "authorization_checked_at",
        "last_synced_at",
        "rate_limited_until",
        "created_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("merchant").prefetch_related("channels")

    @admin.display(description=_("Channels"))
    def channel_list(self, plugin):
        return ", ".join(c.name for c in plugin.channels.all()) or "—"


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "merchant"]
    search_fields = ["code", "name"]
    list_filter = ["merchant"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email", "first_name", "last_name", "country", "merchant", "created_at"]
    search_fields = ["email", "first_name", "last_name"]
    list_filter = ["merchant", "country"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Imported orders as the importer wrote them: changing one here would hide what went wrong."""

    list_display = ["number", "merchant", "plugin", "channel", "placed_at", "imported_at", "platform_status"]
    list_filter = ["plugin__platform", "channel", "merchant"]
    search_fields = ["number", "source_order_id", "customer__email"]
    date_hierarchy = "placed_at"
    raw_id_fields = ["customer"]
    list_select_related = ["merchant", "plugin", "channel"]
    inlines = [OrderLineInline]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "merchant",
        "plugin",
        "kind",
        "order_number",
        "message",
        "occurrences",
        "read",
        "resolved_at",
    ]
    list_filter = ["kind", "read", ("resolved_at", admin.EmptyFieldListFilter), "plugin__platform"]
    search_fields = ["order_number", "message", "plugin__name"]
    list_select_related = ["merchant", "plugin"]


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "plugin",
        "mode",
        "outcome",
        "seen",
        "imported",
        "already_imported",
        "not_imported",
        "finished_at",
    ]
    list_filter = ["mode", "outcome", "plugin__platform"]
    search_fields = ["plugin__name", "message"]
    list_select_related = ["plugin"]
