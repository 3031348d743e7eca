"""Celery tasks of incentives: thin shells that take ids (code uploads run on `imports`)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from .models import IncentiveCodeUpload
from .uploads import incentive_code_upload_run


@shared_task(name="campaigns.incentives.code_upload", acks_late=True)
def incentive_code_upload_task(upload_id: int) -> bool:
    """Load an uploaded code file (idempotent: a queued upload is claimed once)."""
    return incentive_code_upload_run(upload_id)


def incentive_code_upload_enqueue(upload: IncentiveCodeUpload) -> None:
    """Queue the load of `upload` once the current transaction commits."""
    upload_id = upload.pk
    transaction.on_commit(lambda: incentive_code_upload_task.delay(upload_id))
