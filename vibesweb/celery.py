"""The Celery app `vibesweb`: `celery -A vibesweb worker -B` consumes every queue."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

from . import broker  # noqa: F401  (registers the embedded default's sqlite:// transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vibesweb.settings")

app = Celery("vibesweb")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Separate queues so a ten-million-row import never delays a callback (SPEC section 2).
QUEUES = ("default", "imports", "callbacks", "messaging")
# Each queue has its own exchange and routing key: with a shared default binding a
# message would be copied to every queue.
app.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUES]
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.autodiscover_tasks()


def enqueue(task_name: str, *args) -> None:
    """Queue the registered task `task_name` with `args` (as `task.delay(*args)` would, so
    `task_always_eager` still applies). A service queues its own app's tasks by name
    because that app's tasks module imports the service to run it."""
    app.signature(task_name, args=args).delay()
