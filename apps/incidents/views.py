"""Incidents in Wagtail's admin, where support editors confirm, reword or dismiss them."""

from __future__ import annotations

from django.contrib import messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy

from .models import Incident
from .services import incident_confirm, incident_dismiss

ACTION_FIELD = "incident-action"


class IncidentPermissionPolicy(ModelPermissionPolicy):
    """Incidents are opened by the beat task and kept as a record: nobody adds or deletes one here."""

    def user_has_permission(self, user, action):
        if action in ("add", "delete", "copy"):
            return False
        return super().user_has_permission(user, action)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)


class IncidentEditView(generic.EditView):
    """Saves the wording; "Save and confirm" / "Dismiss" also change the state."""

    template_name = "incidents/wagtail_edit.html"

    def save_instance(self):
        incident = super().save_instance()
        action = self.request.POST.get(ACTION_FIELD, "")
        if action == "confirm" and not incident_confirm(incident=incident, by=self.request.user):
            messages.warning(self.request, gettext("It was no longer open, so it was not confirmed."))
        elif action == "dismiss":
            incident_dismiss(incident=incident, by=self.request.user)
        return incident

    def get_success_message(self):
        action = self.request.POST.get(ACTION_FIELD, "")
        if action == "confirm" and self.object.state == Incident.State.CONFIRMED:
            return gettext("Confirmed: merchants of %(platform)s now see the note on the step.") % {
                "platform": self.object.platform_label
            }
        if action == "dismiss" and self.object.state == Incident.State.DISMISSED:
            return gettext("Dismissed: merchants see nothing.")
        return gettext("Wording saved.")


class IncidentViewSet(ModelViewSet):
    model = Incident
    icon = "warning"
    menu_label = _("Incidents")
    menu_order = 300
    add_to_admin_menu = True
    form_fields = ["wording"]
    list_display = ["__str__", "state", "opened_at", "failing_merchants", "merchants"]
    list_filter = ["state", "platform"]
    inspect_view_enabled = True
    copy_view_enabled = False
    edit_view_class = IncidentEditView
