from wagtail import hooks
from wagtail.permissions import register_permission_policy

from .models import Incident
from .views import IncidentPermissionPolicy, IncidentViewSet

register_permission_policy(Incident, IncidentPermissionPolicy(Incident))


@hooks.register("register_admin_viewset")
def register_incident_viewset():
    return IncidentViewSet("incidents")
