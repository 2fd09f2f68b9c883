"""Diagnoses and finished check runs, as merchants' clicks leave them."""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from tests.factories import PluginFactory, order_inputs


class DiagnosisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diagnosis

    class Params:
        plugin = factory.SubFactory(PluginFactory)
        order_number = factory.Sequence(lambda n: str(5000 + n))

    merchant_id = factory.LazyAttribute(lambda d: d.plugin.merchant_id)
    subject_id = factory.LazyAttribute(lambda d: d.plugin.pk)
    subject_label = factory.LazyAttribute(lambda d: d.plugin.name)
    check_set = "order-import"
    reference = factory.SelfAttribute("order_number")
    inputs = factory.LazyAttribute(lambda d: order_inputs(d.order_number)["inputs"])


class CheckRunFactory(factory.django.DjangoModelFactory):
    """A finished run a minute ago."""

    class Meta:
        model = CheckRun

    diagnosis = factory.SubFactory(DiagnosisFactory)
    merchant_id = factory.LazyAttribute(lambda r: r.diagnosis.merchant_id)
    check_key = "plugin_authorized"
    status = CheckRun.State.FAILED
    summary = factory.LazyAttribute(lambda r: f"{r.check_key}: {r.status}")
    finished_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    queued_at = factory.LazyAttribute(lambda r: (r.finished_at or timezone.now()) - timedelta(seconds=2))
    deadline = factory.LazyAttribute(lambda r: r.queued_at + timedelta(seconds=30))
    task_seconds = factory.LazyAttribute(lambda r: 1.5 if r.finished_at else None)


def runs_on(plugin, *statuses, check_key="plugin_authorized", ago=timedelta(minutes=1), **kwargs):
    """One diagnosis of ``plugin`` with a finished run per status, oldest first, the last ``ago``."""
    diagnosis = DiagnosisFactory(plugin=plugin, **kwargs)
    now = timezone.now()
    return [
        CheckRunFactory(
            diagnosis=diagnosis,
            check_key=check_key,
            status=status,
            finished_at=now - ago - timedelta(seconds=len(statuses) - i),
        )
        for i, status in enumerate(statuses)
    ]


def stores(platform="shopify", count=1):
    """Plugins of ``count`` different merchants on ``platform``."""
    return [PluginFactory(platform=platform) for _ in range(count)]


def confirmed_incident(*, platform: str, wording: str, check_key: str = "plugin_authorized"):
    """A problem many stores on ``platform`` have with ``check_key``'s step, confirmed just now."""
    from apps.incidents.models import Incident

    return Incident.objects.create(
        check_key=check_key,
        platform=platform,
        state=Incident.State.CONFIRMED,
        wording=wording,
        window_minutes=30,
        share=0.8,
        runs=12,
        merchants=5,
        failing_merchants=4,
        confirmed_at=timezone.now(),
    )
