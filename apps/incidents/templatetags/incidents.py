"""Incident notes on the article's steps and on the ticket form."""

from django import template

from apps.incidents.models import Incident
from apps.incidents.selectors import panel_incidents, ticket_incidents

register = template.Library()


@register.simple_tag
def incident_banners(panel) -> dict:
    """The incidents to show on this article's steps, by check key (once per page)."""
    return panel_incidents(panel)


@register.inclusion_tag("incidents/banner.html")
def incident_banner(banners, check_key, step_status="") -> dict:
    """The note for one step; ``step_status``: its check's latest result there, if any.

    A step that passes for this merchant is not touched by the problem other
    stores have: an ongoing incident's note (e.g. "reauthorizing may not
    help yet") would only contradict the result. Word that it is over stays.
    """
    incident = banners.get(check_key) if check_key and isinstance(banners, dict) else None
    if incident is not None and step_status == "passed" and incident.state == Incident.State.CONFIRMED:
        incident = None
    return {"incident": incident}


@register.inclusion_tag("incidents/ticket_note.html")
def ticket_incident_note(diagnosis) -> dict:
    return {"incidents": ticket_incidents(diagnosis)}
