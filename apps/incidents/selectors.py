"""Which incidents a merchant is told about: on the steps and on the ticket form."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Subquery
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.runs import latest_runs
from apps.commerce.models import Plugin

from .models import Incident


def plugin_platform(merchant_id: int | None, plugin_id: int | None) -> str:
    """The platform key of the merchant's own plugin; "" for anyone else's or none."""
    if plugin_id is None or merchant_id is None:
        return ""
    platform = Plugin.objects.filter(merchant_id=merchant_id, pk=plugin_id).values_list("platform", flat=True)
    return platform.first() or ""


def _plugin_platform_query(merchant_id: int, plugin_id: int) -> Subquery:
    """``plugin_platform`` as part of another query: asked in the same round trip."""
    return Subquery(Plugin.objects.filter(merchant_id=merchant_id, pk=plugin_id).values("platform")[:1])


def banner_incidents(platform: str | Subquery, *, now: datetime | None = None) -> dict[str, Incident]:
    """By check key: the confirmed incident on this platform, else one resolved lately after being confirmed.

    An incident nobody confirmed is never shown, not even once resolved.
    ``platform``: its key, or the query of a plugin's (``_plugin_platform_query``).
    """
    if not platform:
        return {}
    now = now or timezone.now()
    recently = now - timedelta(hours=settings.INCIDENT_RESOLVED_BANNER_HOURS)
    incidents = Incident.objects.filter(platform=platform, confirmed_at__isnull=False).filter(
        Q(state=Incident.State.CONFIRMED) | Q(state=Incident.State.RESOLVED, resolved_at__gte=recently)
    )
    by_check: dict[str, Incident] = {}
    # Ongoing before resolved, then the latest: what is true now wins.
    for incident in sorted(
        incidents,
        key=lambda i: (i.state == Incident.State.CONFIRMED, i.resolved_at or i.opened_at),
        reverse=True,
    ):
        by_check.setdefault(incident.check_key, incident)
    return by_check


def panel_incidents(panel) -> dict[str, Incident]:
    """Banners for the article's check panel: for the platform of the plugin selected in it."""
    if not getattr(panel, "can_check", False):
        return {}
    # A preview checks a sandbox account: incidents on merchants' platforms are not its news.
    if getattr(panel, "preview", None) is not None:
        return {}
    # The panel's plugins are the reader's own (its account's): a typed id outside them says nothing.
    # Asked in one query with the incidents, not the account's plugin list, then the plugin, then them.
    subject = panel.selected_subject
    if panel.subjects_of is None or subject is None:
        return {}
    return banner_incidents(_plugin_platform_query(panel.subjects_of, subject))


def ticket_incidents(diagnosis: Diagnosis | None) -> list[Incident]:
    """Confirmed, ongoing incidents on the platform of the diagnosis's plugin.

    Not one whose step passes in this diagnosis now (e.g. after Reauthorize):
    the problem other stores have is not this merchant's, as on the step itself.
    """
    if diagnosis is None:
        return []
    platform = plugin_platform(diagnosis.merchant_id, diagnosis.subject_id)
    if not platform:
        return []
    passing = {
        run.check_key for run in latest_runs(diagnosis).values() if run.status == CheckRun.State.PASSED
    }
    return list(
        Incident.objects.filter(platform=platform, state=Incident.State.CONFIRMED)
        .exclude(check_key__in=passing)
        .order_by("opened_at", "pk")
    )
