"""What opens, resolves, confirms and dismisses incidents."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps as global_apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.checks.registry import get_check
from apps.commerce.models import Plugin
from apps.platforms.registry import platform_choices
from kitty_troubleshoot.said import Said, said

from .models import Incident

logger = logging.getLogger(__name__)

NOT_PASSED = (CheckRun.State.FAILED, CheckRun.State.UNKNOWN)
FINISHED = (CheckRun.State.PASSED, *NOT_PASSED)


@dataclass(frozen=True)
class Figures:
    """How one check fared on one platform over the window, each merchant counted once."""

    check_key: str
    platform: str
    runs: int = 0  # finished runs, all merchants
    merchants: int = 0  # distinct merchants with a finished run
    failing_merchants: int = 0  # merchants whose latest run failed or couldn't check
    unknown_merchants: int = 0  # of those, merchants whose latest run couldn't check

    @property
    def share(self) -> float:
        return self.failing_merchants / self.merchants if self.merchants else 0.0

    @property
    def passing_merchants(self) -> int:
        return self.merchants - self.failing_merchants

    def crosses_threshold(self) -> bool:
        return (
            self.share >= settings.INCIDENT_FAILURE_SHARE
            and self.failing_merchants >= settings.INCIDENT_MIN_MERCHANTS
            and self.runs >= settings.INCIDENT_MIN_RUNS
        )

    def fell_back(self) -> bool:
        """Recovered, with some margin below the opening threshold so it does not flap.

        It takes a merchant passing the check: a window in which nobody ran it
        says nothing about whether the platform is back.
        """
        return self.passing_merchants > 0 and self.share < settings.INCIDENT_FAILURE_SHARE / 2


def counted_runs(since: datetime) -> QuerySet[CheckRun]:
    """Finished merchant runs since ``since``, each with its plugin's platform.

    Support agents' read-only re-checks look at someone else's account again,
    and an editor's preview checks a sandbox account: neither is more
    merchants failing. Further kinds of diagnosis to leave out go in this one
    filter. Runs no worker finished (ended as "couldn't
    finish" when their deadline passed) tell of our own queue, not of a
    platform: only runs a task completed count.
    """
    platform = Plugin.objects.filter(pk=OuterRef("diagnosis__subject_id")).values("platform")[:1]
    return (
        CheckRun.objects.filter(finished_at__gte=since, status__in=FINISHED, task_seconds__isnull=False)
        .exclude(diagnosis__read_only=True)
        .filter(diagnosis__preview_session__isnull=True)
        .annotate(platform=Subquery(platform))
    )


def failure_figures(*, since: datetime) -> dict[tuple[str, str], Figures]:
    """Figures by (check key, platform) for the runs finished since ``since``."""
    runs: dict[tuple[str, str], int] = {}
    latest: dict[tuple[str, str], dict[int, str]] = {}
    rows = (
        counted_runs(since)
        .order_by("finished_at", "pk")
        .values_list("check_key", "platform", "merchant_id", "status", "data")
    )
    for check_key, platform, merchant_id, status, data in rows.iterator(chunk_size=2000):
        if not platform:  # the plugin was deleted since
            continue
        if status == CheckRun.State.UNKNOWN and isinstance(data, dict) and data.get("follows_from"):
            # Not checkable because another step failed for this order (e.g. no such order): not the platform.
            continue
        key = (check_key, platform)
        runs[key] = runs.get(key, 0) + 1
        latest.setdefault(key, {})[merchant_id] = status  # oldest first: the latest run wins
    figures = {}
    for key, by_merchant in latest.items():
        statuses = list(by_merchant.values())
        figures[key] = Figures(
            check_key=key[0],
            platform=key[1],
            runs=runs[key],
            merchants=len(statuses),
            failing_merchants=sum(1 for s in statuses if s in NOT_PASSED),
            unknown_merchants=sum(1 for s in statuses if s == CheckRun.State.UNKNOWN),
        )
    return figures


def default_wording(figures: Figures) -> Said:
    """What merchants read until someone edits it, from what most failing merchants saw: a message,
    read by each merchant in their own language."""
    platform = str(dict(platform_choices()).get(figures.platform, figures.platform))
    if figures.unknown_merchants * 2 >= figures.failing_merchants:
        return said(
            "Many %(platform)s stores can't be reached right now — this is on the platform's side; "
            "we'll update this note.",
            platform=platform,
        )
    if figures.check_key == "plugin_authorized":
        return said(
            "%(platform)s is refusing many stores' connections right now — this is on the platform's "
            "side, so reauthorizing may not help yet; we'll update this note.",
            platform=platform,
        )
    check = get_check(figures.check_key)
    title = check.title if check is not None else figures.check_key
    return said(
        "Many %(platform)s stores fail “%(check)s” right now — we are looking into it and will update "
        "this note.",
        platform=platform,
        check=title if isinstance(title, Said) else str(title),
    )


@dataclass
class Evaluation:
    opened: list[Incident]
    resolved: list[Incident]


def incidents_evaluate(*, now: datetime | None = None) -> Evaluation:
    """One beat tick: open incidents that crossed the threshold, resolve the ones that fell back.

    Safe to run twice at once or in a row: at most one ongoing incident per
    check and platform (a database constraint), and each change is a
    conditional update.
    """
    now = now or timezone.now()
    window = settings.INCIDENT_WINDOW_MINUTES
    figures = failure_figures(since=now - timedelta(minutes=window))
    ongoing = {(i.check_key, i.platform): i for i in Incident.objects.filter(resolved_at__isnull=True)}
    result = Evaluation(opened=[], resolved=[])
    for key in sorted(set(figures) | set(ongoing)):
        seen = figures.get(key) or Figures(*key)
        incident = ongoing.get(key)
        if incident is None:
            if seen.crosses_threshold():
                opened = _incident_open(seen, window=window, now=now)
                if opened is not None:
                    result.opened.append(opened)
        elif seen.fell_back():
            if _incident_end(incident, now=now):
                result.resolved.append(incident)
        else:
            Incident.objects.filter(pk=incident.pk).update(latest_share=seen.share, evaluated_at=now)
    return result


def _incident_open(figures: Figures, *, window: int, now: datetime) -> Incident | None:
    wording = default_wording(figures)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                check_key=figures.check_key,
                platform=figures.platform,
                wording=str.__str__(wording),
                said=wording,
                window_minutes=window,
                share=figures.share,
                runs=figures.runs,
                merchants=figures.merchants,
                failing_merchants=figures.failing_merchants,
                latest_share=figures.share,
                evaluated_at=now,
                opened_at=now,
            )
    except IntegrityError:
        return None  # another tick opened it a moment ago
    logger.warning(
        "Incident opened: %s on %s, %d of %d merchants failing",
        figures.check_key,
        figures.platform,
        figures.failing_merchants,
        figures.merchants,
    )
    return incident


def _incident_end(incident: Incident, *, now: datetime) -> bool:
    """The failures fell back: resolve it (a dismissed one stays dismissed, and ends)."""
    ongoing = Incident.objects.filter(pk=incident.pk, state=incident.state, resolved_at__isnull=True)
    changes = {"resolved_at": now, "evaluated_at": now}
    if incident.state != Incident.State.DISMISSED:
        changes["state"] = Incident.State.RESOLVED
    if not ongoing.update(**changes):
        return False
    incident.refresh_from_db()
    return True


def incident_confirm(*, incident: Incident, by) -> bool:
    """Show an open incident to the merchants of its platform. False if it is no longer open."""
    changed = Incident.objects.filter(pk=incident.pk, state=Incident.State.OPEN).update(
        state=Incident.State.CONFIRMED, confirmed_at=timezone.now(), confirmed_by=by
    )
    incident.refresh_from_db()
    return bool(changed)


def incident_dismiss(*, incident: Incident, by) -> bool:
    """Not an incident (or no longer worth a banner): hide it; no new one opens until the failures stop."""
    changed = Incident.objects.filter(
        pk=incident.pk, state__in=(Incident.State.OPEN, Incident.State.CONFIRMED)
    ).update(state=Incident.State.DISMISSED, dismissed_at=timezone.now(), dismissed_by=by)
    incident.refresh_from_db()
    return bool(changed)


INCIDENT_PERMISSIONS = ("view_incident", "change_incident")


def support_editors_may_handle_incidents(**kwargs) -> None:
    """Support editors see, confirm, reword and dismiss incidents in Wagtail (they never add or delete one)."""
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from apps.help.services import SUPPORT_EDITORS_GROUP

    using = kwargs.get("using", "default")
    # This app is listed before django.contrib.auth, so its permissions may not exist yet.
    create_permissions(kwargs["app_config"], verbosity=0, using=using, apps=kwargs.get("apps", global_apps))
    permissions = list(
        Permission.objects.using(using).filter(
            content_type__app_label="incidents", codename__in=INCIDENT_PERMISSIONS
        )
    )
    if not permissions:
        return
    group, _ = Group.objects.using(using).get_or_create(name=SUPPORT_EDITORS_GROUP)
    group.permissions.add(*permissions)
