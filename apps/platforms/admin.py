"""Django admin for the demo marketplace: where a demo's scenarios are staged."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.platforms.models import SandboxOrder, SandboxStore


@admin.register(SandboxStore)
class SandboxStoreAdmin(admin.ModelAdmin):
    list_display = [
        "handle",
        "name",
        "reject_credentials",
        "throttled_until",
        "history_days",
        "supports_backfill",
        "supports_manual_sync",
        "created",
    ]
    list_filter = ["reject_credentials", "supports_backfill", "supports_manual_sync"]
    search_fields = ["handle", "name"]
    readonly_fields = ["token_hint", "created"]
    actions = ["rotate_tokens"]
    fieldsets = [
        (None, {"fields": ["handle", "name", "token_hint", "created"]}),
        (
            _("Staged problems"),
            {"fields": ["reject_credentials", "throttled_until", "history_days"]},
        ),
        (_("Capabilities"), {"fields": ["supports_backfill", "supports_manual_sync"]}),
    ]

    @admin.display(description=_("Access token"))
    def token_hint(self, store: SandboxStore) -> str:
        # Like a real platform's app settings: enough to tell tokens apart, never the token.
        if not store.access_token:
            return "—"
        return gettext("…%(last)s (use “Rotate access token” to replace it)") % {
            "last": store.access_token[-4:]
        }

    @admin.action(description=_("Rotate access token (de-authorizes connected plugins)"))
    def rotate_tokens(self, request: HttpRequest, queryset: QuerySet[SandboxStore]) -> None:
        count = 0
        for store in queryset:
            store.rotate_token()
            count += 1
        self.message_user(
            request,
            ngettext(
                "Rotated the token of %(count)s demo store.",
                "Rotated the token of %(count)s demo stores.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(SandboxOrder)
class SandboxOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "store", "status", "placed_at", "email", "currency", "total"]
    list_filter = ["status", "store"]
    search_fields = ["number", "email"]
    list_select_related = ["store"]
    date_hierarchy = "placed_at"
    ordering = ["-placed_at", "-id"]
    fieldsets = [
        (None, {"fields": ["store", "number", "placed_at", "status", "imitates", "currency", "total"]}),
        (_("Lines"), {"fields": ["lines"]}),
        (
            _("Buyer"),
            {
                "fields": [
                    "email",
                    ("first_name", "last_name"),
                    "address_line1",
                    ("postcode", "city"),
                    "country",
                ]
            },
        ),
    ]
