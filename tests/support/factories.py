"""Factories for diagnoses, their check runs and support tickets."""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.support.models import SupportTicket
from tests.factories import PluginFactory, UserFactory, order_inputs


class DiagnosisFactory(factory.django.DjangoModelFactory):
    """A diagnosis of one plugin's order, by a user of the plugin's merchant."""

    class Meta:
        model = Diagnosis
        exclude = ["plugin", "order_number", "placed_date"]

    plugin = factory.SubFactory(PluginFactory)
    merchant_id = factory.LazyAttribute(lambda d: d.plugin.merchant_id)
    user = factory.SubFactory(UserFactory)
    page = None
    subject_id = factory.LazyAttribute(lambda d: d.plugin.pk)
    subject_label = factory.LazyAttribute(lambda d: d.plugin.name)
    order_number = factory.Sequence(lambda n: str(50000 + n))
    placed_date = None
    check_set = "order-import"
    reference = factory.SelfAttribute("order_number")
    inputs = factory.LazyAttribute(lambda d: order_inputs(d.order_number, d.placed_date)["inputs"])


class CheckRunFactory(factory.django.DjangoModelFactory):
    """A finished run of one step's check."""

    class Meta:
        model = CheckRun

    diagnosis = factory.SubFactory(DiagnosisFactory)
    merchant_id = factory.LazyAttribute(lambda r: r.diagnosis.merchant_id)
    user = factory.LazyAttribute(lambda r: r.diagnosis.user)
    page = factory.LazyAttribute(lambda r: r.diagnosis.page)
    block_id = factory.LazyAttribute(lambda r: f"block-{r.step_number}")
    step_number = 1
    check_key = "import_orders_enabled"
    status = CheckRun.State.PASSED
    summary = "All good."
    queued_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda r: r.queued_at + timedelta(seconds=1))
    deadline = factory.LazyAttribute(lambda r: r.queued_at + timedelta(seconds=60))


class SupportTicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportTicket
        exclude = ["plugin"]

    plugin = factory.SubFactory(PluginFactory)
    merchant_id = factory.LazyAttribute(lambda t: t.plugin.merchant_id)
    user = factory.SubFactory(UserFactory)
    order_number = factory.Sequence(lambda n: str(70000 + n))
    platform = "Demo marketplace"
    plugin_label = factory.LazyAttribute(lambda t: t.plugin.name)
    plugin_id = factory.LazyAttribute(lambda t: t.plugin.pk)
    tried = "Turned Import Orders off and on again."
    transcript = factory.LazyFunction(list)
