"""Celery tasks of the person import (queue `imports`, so imports never delay callbacks)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from vibesweb.celery import enqueue

from .models import PersonImport
from .services import person_import_run, person_imports_stalled


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
    if ran is not None:
        # the imported persons become searchable by index rather than by scan
        enqueue("mobiledb.person_search_index")
    if ran is None:
        person_import.refresh_from_db()
        if person_import.is_active and person_import.lease_expires_at:
            wait = (person_import.lease_expires_at - timezone.now()).total_seconds()
            raise self.retry(countdown=max(1, int(wait) + 1))


@shared_task(name="mobiledb.imports.resume_stalled", ignore_result=True)
def resume_stalled_imports() -> int:
    """Periodic: enqueue imports whose worker was lost (lease expired); returns how many.

    As the callbacks sweep does for deliveries: a killed worker's message may be gone
    (filesystem broker) or parked unacknowledged for an hour (Redis), so the scheduler,
    not the broker, guarantees the import resumes. Idempotent.
    """
    ids = person_imports_stalled()
    for import_id in ids:
        person_import_task.delay(import_id)
    return len(ids)
