"""The Celery application; its configuration is the CELERY_* part of settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kitty_troubleshoot.settings")

app = Celery("kitty_troubleshoot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
