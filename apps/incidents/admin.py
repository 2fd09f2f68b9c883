"""Incidents in Django admin: admins confirm, reword or dismiss what the beat task opened."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

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

    @admin.display(description=_("check"), ordering="check_key")
    def check_title(self, incident: Incident) -> str:
        return incident.check_title

    @admin.display(description=_("share failing at opening"), ordering="share")
    def share_percent(self, incident: Incident) -> str:
        return incident.share_percent

    @admin.display(description=_("share failing at the latest look"))
    def latest_share_percent(self, incident: Incident) -> str:
        return incident.latest_share_percent

    @admin.action(
        description=_("Confirm: show the note to merchants of the platform"), permissions=["change"]
    )
    def confirm(self, request, queryset):
        incidents = list(queryset)
        done = sum(incident_confirm(incident=i, by=request.user) for i in incidents)
        skipped = len(incidents) - done
        self.message_user(
            request,
            ngettext("Confirmed %(count)s incident.", "Confirmed %(count)s incidents.", done)
            % {"count": done},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)s was not open, so it was left as it is.",
                    "%(count)s were not open, so they were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Dismiss: not an incident, show nothing"), permissions=["change"])
    def dismiss(self, request, queryset):
        done = sum(incident_dismiss(incident=i, by=request.user) for i in queryset)
        self.message_user(
            request,
            ngettext("Dismissed %(count)s incident.", "Dismissed %(count)s incidents.", done)
            % {"count": done},
            messages.SUCCESS,
        )
