"""The sweeper (beat) ends syncs whose worker died, and only those."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from apps.commerce.models import SyncRun
from apps.commerce.tasks import end_abandoned_syncs
from tests.factories import PluginFactory

pytestmark = pytest.mark.django_db


def test_a_sync_running_past_its_hard_limit_ends_as_failed_and_a_live_one_is_left_alone(settings):
    settings.SYNC_TASK_TIME_LIMIT = 360
    plugin = PluginFactory()
    now = timezone.now()
    dead = SyncRun.objects.create(plugin=plugin, mode="scheduled", started_at=now - timedelta(seconds=366))
    live = SyncRun.objects.create(plugin=plugin, mode="scheduled", started_at=now - timedelta(seconds=300))
    done = SyncRun.objects.create(
        plugin=plugin,
        mode="manual",
        started_at=now - timedelta(hours=1),
        finished_at=now,
        outcome="succeeded",
    )

    assert end_abandoned_syncs.delay().get() == 1

    dead.refresh_from_db()
    assert dead.outcome == "failed" and dead.finished_at is not None
    assert dead.message.startswith("This sync stopped without finishing")
    assert SyncRun.objects.get(pk=live.pk).outcome == "running"
    assert SyncRun.objects.get(pk=done.pk).outcome == "succeeded"


def test_the_limit_comes_from_settings(settings):
    plugin = PluginFactory()
    run = SyncRun.objects.create(
        plugin=plugin, mode="scheduled", started_at=timezone.now() - timedelta(seconds=20)
    )
    settings.SYNC_TASK_TIME_LIMIT = 60
    assert end_abandoned_syncs() == 0
    settings.SYNC_TASK_TIME_LIMIT = 10
    assert end_abandoned_syncs() == 1
    assert SyncRun.objects.get(pk=run.pk).outcome == "failed"


def test_the_sweeper_runs_every_minute():
    entry = next(
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("end_abandoned_syncs")
    )
    assert entry["schedule"] <= 60
