"""Diagnoses of the seed article with known outcomes, across two of its revisions."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.steps import ALREADY_HERE_BLOCK, step_targets
from apps.checks.sets import set_of
from apps.commerce.models import Customer, Order
from apps.support.models import SupportTicket
from tests.factories import PluginFactory, UserFactory, order_inputs

BACKFILL = {"key": "backfill", "label": "Import orders since a date"}


def diagnose(page, revision_id, when: datetime, outcomes: dict, *, plugin, order_number="", read_only=False,
             already_here=False, offered=None, applied_at=None) -> Diagnosis:  # fmt: skip
    """A diagnosis that ran every step of ``page``: passed unless ``outcomes`` says {step: (status, summary)}.

    ``offered`` puts a fix on a step's run ({step: fix}); with ``applied_at``
    that step ran again after the fix was applied, and passed.
    """
    diagnosis = Diagnosis.objects.create(
        merchant_id=plugin.merchant_id, page=page, subject_id=plugin.pk, subject_label=plugin.name,
        **order_inputs(order_number), created_at=when, updated_at=when, read_only=read_only,
    )  # fmt: skip

    def run(block_id, number, key, status, summary="", **extra):
        return CheckRun.objects.create(
            diagnosis=diagnosis, merchant_id=plugin.merchant_id, page=page, page_revision_id=revision_id,
            block_id=block_id, step_number=number, check_key=key, status=status, summary=summary,
            queued_at=extra.pop("queued_at", when), finished_at=when, deadline=when + timedelta(minutes=1), **extra,
        )  # fmt: skip

    run(ALREADY_HERE_BLOCK, None, set_of(page).before_step_one, "passed" if already_here else "failed")
    for target in step_targets(page):
        status, summary = outcomes.get(target.step_number, ("passed", "Fine."))
        fix = (offered or {}).get(target.step_number)
        run(target.block_id, target.step_number, target.check_key, status, summary,
            fixes_offered=[{**fix, "url": ""}] if fix else [])  # fmt: skip
        if fix and applied_at:
            applied = [{"key": fix["key"], "result": "Done.", "at": applied_at.isoformat()}]
            run(target.block_id, target.step_number, target.check_key, "passed", "Fine now.",
                fixes_applied=applied, queued_at=applied_at)  # fmt: skip
    return diagnosis


def import_order(plugin, number: str, at: datetime) -> Order:
    customer = Customer.objects.create(merchant_id=plugin.merchant_id, email="buyer@example.com")
    return Order.objects.create(
        merchant_id=plugin.merchant_id, plugin=plugin, channel=plugin.channels.first(), customer=customer,
        source_order_id=f"src-{number}", number=number, placed_at=at - timedelta(days=2), imported_at=at,
    )  # fmt: skip


@pytest.fixture
def revisions(article):
    """The article's first published revision, and a second one published after an edit."""
    article.refresh_from_db()
    first = article.live_revision_id
    article.title = "An Order Did Not Import"
    second = article.save_revision()
    second.publish()
    article.refresh_from_db()
    return first, second.pk


@pytest.fixture
def outcomes(article, revisions):
    """Known outcomes: 3 diagnoses on the first revision, 3 on the second, and one not counted.

    First revision (yesterday): Step 1 the cause (ended in a ticket); Step 2
    couldn't check before Step 3 failed (incomplete); all passed.
    Second revision (today): Step 3 failed with a backfill offered, applied,
    and the order imported 2 hours later; Step 3 the cause, backfill offered
    and not applied; the order already imported. And a support agent's
    read-only re-check where Step 1 failed, which is not a reader's outcome.
    """
    first, second = revisions
    plugin = PluginFactory()
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    yesterday = now - timedelta(days=1)
    ticketed = diagnose(article, first, yesterday, {1: ("failed", "Import Orders is off.")}, plugin=plugin,
                        order_number="2001")  # fmt: skip
    SupportTicket.objects.create(merchant_id=plugin.merchant_id, diagnosis=ticketed, order_number="2001",
                                 plugin_id=plugin.pk)  # fmt: skip
    diagnose(article, first, yesterday + timedelta(minutes=5),
             {2: ("unknown", "The platform did not answer about order #2002 at 10:15."),
              3: ("failed", "The order is older than the import date.")}, plugin=plugin, order_number="2002")  # fmt: skip
    diagnose(article, first, yesterday + timedelta(minutes=10), {}, plugin=plugin, order_number="2003")
    fixed_at = now + timedelta(minutes=1)
    diagnose(article, second, now, {3: ("failed", "The order is older than the import date.")}, plugin=plugin,
             order_number="3001", offered={3: BACKFILL}, applied_at=fixed_at)  # fmt: skip
    import_order(plugin, "3001", fixed_at + timedelta(hours=2))
    diagnose(article, second, now + timedelta(minutes=5), {3: ("failed", "The order is older than the import date.")},
             plugin=plugin, order_number="3002", offered={3: BACKFILL})  # fmt: skip
    diagnose(
        article,
        second,
        now + timedelta(minutes=10),
        {},
        plugin=plugin,
        order_number="3003",
        already_here=True,
    )
    diagnose(article, second, now + timedelta(minutes=15), {1: ("failed", "Import Orders is off.")}, plugin=plugin,
             order_number="3004", read_only=True)  # fmt: skip
    return {"first": first, "second": second, "today": now.date(), "yesterday": yesterday.date()}


@pytest.fixture
def editor(db):
    user = UserFactory(username="editor")
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
