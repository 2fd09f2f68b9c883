"""Incident notes on the article's steps and on the ticket form."""

from django import template

from apps.incidents.selectors import panel_incidents, ticket_incidents

register = template.Library()


@register.simple_tag
def incident_banners(panel) -> dict:
    """The incidents to show on this article's steps, by check key (once per page)."""
    return panel_incidents(panel)


@register.inclusion_tag("incidents/banner.html")
def incident_banner(banners, check_key, step_number=None) -> dict:
    incident = banners.get(check_key) if check_key and isinstance(banners, dict) else None
    return {"incident": incident, "step_number": step_number}


@register.inclusion_tag("incidents/ticket_note.html")
def ticket_incident_note(diagnosis) -> dict:
    return {"incidents": ticket_incidents(diagnosis)}
