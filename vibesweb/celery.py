"""The Celery app `vibesweb`: `celery -A vibesweb worker -B` consumes every queue."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vibesweb.settings")

app = Celery("vibesweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Separate queues so a ten-million-row import never delays a callback (SPEC section 2).
QUEUES = ("default", "imports", "callbacks", "messaging")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.autodiscover_tasks()
