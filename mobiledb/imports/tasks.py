"""Celery tasks of the person import (queue `imports`, so imports never delay callbacks)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from .models import PersonImport
from .services import person_import_run


@shared_task(bind=True, acks_late=True, max_retries=None)
def person_import_task(self, import_id: int) -> None:
    """Run or resume import `import_id`. Idempotent: a redelivered task resumes it.

    When another worker's lease is still live (a killed worker's lease has not expired
    yet), try again once it would have expired; a finished import is left alone.
    """
    person_import = PersonImport.objects.filter(pk=import_id).first()
    if person_import is None or not person_import.is_active:
        return
    try:
        ran = person_import_run(import_id)
    except DatabaseError as error:
        # The database went away mid-import: committed chunks stay, the rest resumes.
        raise self.retry(exc=error, countdown=30, max_retries=20) from None
    if ran is None:
        person_import.refresh_from_db()
        if person_import.is_active and person_import.lease_expires_at:
            wait = (person_import.lease_expires_at - timezone.now()).total_seconds()
            raise self.retry(countdown=max(1, int(wait) + 1))
