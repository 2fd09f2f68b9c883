from django.contrib import admin

from kitty_troubleshoot.admin import ReadOnlyAdmin

from .models import OrderWatch


@admin.register(OrderWatch)
class OrderWatchAdmin(ReadOnlyAdmin):
    """Watches are started and ended by merchants and the beat sweep; admins only look."""

    list_display = [
        "created_at",
        "order_number",
        "plugin",
        "merchant",
        "user",
        "state",
        "deadline",
        "emailed_at",
    ]
    list_filter = ["state"]
    search_fields = ["order_number", "plugin__name", "merchant__name", "user__username"]
    list_select_related = ["plugin", "merchant", "user"]
