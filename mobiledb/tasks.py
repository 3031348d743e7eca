"""The mobile database's Celery tasks, gathered here for Celery's autodiscovery."""

from __future__ import annotations

from .broadcasts.tasks import broadcast_send_batch, broadcasts_start_due
from .imports.tasks import person_import_task
from .segments.tasks import person_bulk_action

__all__ = [
    "broadcast_send_batch",
    "broadcasts_start_due",
    "person_bulk_action",
    "person_import_task",
]
