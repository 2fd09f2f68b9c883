"""With the real worker: a sync imports the watched order, and exactly one e-mail goes out."""

import time
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from wagtail.models import Page

from apps.checks.models import CheckRun, Diagnosis
from apps.commerce.models import Plugin
from apps.commerce.tasks import sync_plugin
from apps.follow.models import OrderWatch
from apps.follow.services import watch_start
from apps.follow.tasks import send_watch_email
from tests.conftest import service_missing, wagtail_tree_ensure, wait_for
from tests.factories import fresh_order


def test_a_scheduled_sync_on_the_worker_ends_the_watch_with_one_email(celery_worker, worker_outbox):
    if celery_worker is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    main = Plugin.objects.get(name__contains="Main store")
    merchant = get_user_model().objects.get(username="merchant")
    fresh_order(main)
    # Every step checked on the worker first: a watch starts from a finished diagnosis.
    client = Client()
    client.force_login(merchant)
    page = Page.objects.get(slug="order-did-not-import")
    client.post("/checks/start/", {"page": page.pk, "subject": main.pk, "order_number": "1010", "all": "1"})
    diagnosis = Diagnosis.objects.get(reference="1010")
    wait_for(
        lambda: not CheckRun.objects.filter(diagnosis=diagnosis, status__in=["queued", "running"]).exists()
    )
    watch_start(user=merchant, diagnosis=diagnosis)

    sync_plugin.delay(main.pk, "scheduled")
    # The same e-mail task delivered again (a redelivery after a lost ack) must not send twice.
    watch = wait_for(
        lambda: OrderWatch.objects.filter(state="arrived", emailed_at__isnull=False).first(), timeout=30
    )
    send_watch_email.delay(watch.pk)
    send_watch_email.delay(watch.pk)

    wait_for(lambda: worker_outbox(), timeout=10)
    time.sleep(1.5)  # room for a wrong second e-mail to arrive
    sent = worker_outbox()
    assert [m["Subject"] for m in sent] == ["Order #1010 arrived in Commerce Kitty"]
    assert sent[0]["To"] == "merchant@demo.commercekitty.example"
    assert "/notifications/unsubscribe/" in sent[0]["List-Unsubscribe"]
