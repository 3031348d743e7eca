"""The mobile database's Celery tasks, gathered here for Celery's autodiscovery."""

from __future__ import annotations

from .broadcasts.tasks import broadcast_send_batch, broadcasts_start_due
from .imports.tasks import person_import_task

__all__ = ["broadcast_send_batch", "broadcasts_start_due", "person_import_task"]
