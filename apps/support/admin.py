from django.contrib import admin
from django.utils.html import format_html, format_html_join

from .models import SupportTicket
from .selectors import transcript_heading

STATUS_COLOURS = {"passed": "#1f7a4d", "failed": "#b3261e", "unknown": "#8a5a00"}


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    """Agents read what the merchant sent and open or close the ticket; nothing else changes."""

    list_display = [
        "reference",
        "created_at",
        "status",
        "order_number",
        "platform",
        "plugin_label",
        "merchant_id",
    ]
    list_filter = ["status", "platform"]
    search_fields = ["reference", "order_number", "plugin_label"]
    date_hierarchy = "created_at"
    fields = [
        "reference",
        "status",
        "created_at",
        "emailed_at",
        "merchant_id",
        "user",
        "order_number",
        "platform",
        "plugin_label",
        "plugin_id",
        "placed_date",
        "tried",
        "message",
        "verdict",
        "transcript_display",
        "diagnosis",
        "page",
        "page_revision",
    ]
    readonly_fields = [f for f in fields if f != "status"]

    def has_add_permission(self, request):
        return False  # tickets come from merchants, through "Still missing?"

    @admin.display(description="transcript")
    def transcript_display(self, ticket: SupportTicket):
        if not ticket.transcript:
            return "No checks had been run."
        return format_html(
            '<ol style="margin:0;padding-left:1.25rem">{}</ol>',
            format_html_join("", "{}", ((self._entry_html(entry),) for entry in ticket.transcript)),
        )

    def _entry_html(self, entry):
        if not isinstance(entry, dict):
            return format_html("<li>{}</li>", str(entry))
        status = str(entry.get("status", ""))
        evidence = format_html_join("", "<li>{}</li>", ((line,) for line in entry.get("evidence") or []))
        fixes = format_html_join(
            "",
            "<li>Applied fix{}: {}</li>",
            (
                (f" by {fix.get('by')}" if fix.get("by") else "", fix.get("result") or fix.get("key", ""))
                for fix in entry.get("fixes_applied") or []
                if isinstance(fix, dict)
            ),
        )
        return format_html(
            '<li style="margin-bottom:.75rem"><strong>{}</strong> '
            '<span style="color:{};font-weight:600">{}</span><br>{}<ul>{}{}</ul></li>',
            transcript_heading(entry),
            STATUS_COLOURS.get(status, "#5b6775"),
            entry.get("status_label") or status,
            entry.get("summary", ""),
            evidence,
            fixes,
        )
