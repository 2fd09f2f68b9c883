"""Incidents in Django admin: admins confirm, reword or dismiss what the beat task opened."""

from django.contrib import admin, messages

from .models import Incident
from .services import incident_confirm, incident_dismiss

FIGURES = [
    "share_percent",
    "failing_merchants",
    "merchants",
    "runs",
    "window_minutes",
    "latest_share_percent",
]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["opened_at", "platform", "check_title", "state", "share_percent", "failing_merchants"]
    list_filter = ["state", "platform", "check_key"]
    date_hierarchy = "opened_at"
    fields = [
        "check_title",
        "platform",
        "state",
        "wording",
        *FIGURES,
        "evaluated_at",
        "opened_at",
        ("confirmed_at", "confirmed_by"),
        ("dismissed_at", "dismissed_by"),
        "resolved_at",
    ]
    actions = ["confirm", "dismiss"]

    def get_readonly_fields(self, request, obj=None):
        flat = []
        for name in self.fields:
            flat.extend(name if isinstance(name, tuple) else [name])
        return [name for name in flat if name != "wording"]

    def has_add_permission(self, request):
        return False  # only the beat task opens incidents

    def has_delete_permission(self, request, obj=None):
        return False  # dismiss instead: the record of what happened stays

    @admin.display(description="check", ordering="check_key")
    def check_title(self, incident: Incident) -> str:
        return incident.check_title

    @admin.display(description="share failing at opening", ordering="share")
    def share_percent(self, incident: Incident) -> str:
        return incident.share_percent

    @admin.display(description="share failing at the latest look")
    def latest_share_percent(self, incident: Incident) -> str:
        return incident.latest_share_percent

    @admin.action(description="Confirm: show the note to merchants of the platform", permissions=["change"])
    def confirm(self, request, queryset):
        incidents = list(queryset)
        done = sum(incident_confirm(incident=i, by=request.user) for i in incidents)
        skipped = len(incidents) - done
        self.message_user(request, f"Confirmed {done} incident(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} were not open, so they were left as they are.", messages.WARNING
            )

    @admin.action(description="Dismiss: not an incident, show nothing", permissions=["change"])
    def dismiss(self, request, queryset):
        done = sum(incident_dismiss(incident=i, by=request.user) for i in queryset)
        self.message_user(request, f"Dismissed {done} incident(s).", messages.SUCCESS)
