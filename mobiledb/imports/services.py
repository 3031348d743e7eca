"""Person import use cases: create, run (claim, apply, finish), cancel, resume."""

from __future__ import annotations

import contextlib
import logging
import secrets
from pathlib import Path

from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from vibesweb.celery import enqueue
from vibesweb.errors import DomainError
from vibesweb.inputs import storable_text
from vibesweb.tenancy.models import Company

from ..errors import ImportInterrupted, InvalidSchemaName
from .checkpoint import ImportStopped, lease
from .engine import ImportRun
from .models import PersonImport
from .report import write_error_report
from .subscription_files import SubscriptionFileRun, file_kind

logger = logging.getLogger(__name__)
# The task that runs an import (imports.tasks; Celery names it after its module).
IMPORT_TASK = "mobiledb.imports.tasks.person_import_task"
Status = PersonImport.Status


def person_import_create(
    *,
    company_key: str,
    file_path: str,
    file_name: str | None = None,
    created_by=None,
    kind: str | None = None,
) -> PersonImport:
    """Record an import of the file at `file_path` (not started: see person_import_run).

    Without `kind`, a `.subscriptions` or `.opt_outs` file name makes it a subscription
    file import, any other a person import.
    """
    path = Path(file_path).resolve()
    file_name = file_name or path.name
    return PersonImport.objects.create(
        company=Company.objects.filter(key=company_key).first(),
        company_key=company_key,
        kind=kind or file_kind(file_name) or PersonImport.Kind.PERSONS,
        file_path=str(path),
        file_name=file_name,
        file_size=path.stat().st_size if path.exists() else 0,
        created_by=created_by,
    )


def person_import_claim(import_id: int) -> str | None:
    """Take the lease of a pending or abandoned running import; its token, or None.

    A conditional UPDATE, so two workers never run the same import: the lease of a live
    run is renewed with every chunk, and one that stopped renewing (a killed worker)
    expires after PERSON_IMPORT_LEASE_SECONDS and may be taken over.
    """
    token = secrets.token_hex(16)
    now = timezone.now()
    claimed = (
        PersonImport.objects.filter(pk=import_id, status__in=[Status.PENDING, Status.RUNNING])
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_token=token, lease_expires_at=now + lease(), status=Status.RUNNING)
    )
    return token if claimed == 1 else None


def person_import_run(import_id: int, *, token: str | None = None, on_chunk=None,
                      chunk_size: int | None = None) -> PersonImport | None:  # fmt: skip
    """Run (or resume) an import to its end; None when another worker holds it.

    Idempotent and resumable: it continues after the last committed chunk. A file-level
    error ends it as failed with the error's class and message; rows already applied by
    earlier chunks stay (each was applied completely).
    """
    token = token or person_import_claim(import_id)
    if token is None:
        return None
    person_import = PersonImport.objects.get(pk=import_id)
    if person_import.started_at is None:
        person_import.started_at = timezone.now()
        PersonImport.objects.filter(pk=import_id).update(started_at=person_import.started_at)
    try:
        return _run(person_import, token, on_chunk, chunk_size)
    except Exception:
        # Anything unforeseen (the database went away, a bug): let a retry or a resume
        # take over at once instead of waiting for the lease to expire.
        with contextlib.suppress(DatabaseError):
            PersonImport.objects.filter(pk=import_id, lease_token=token).update(
                lease_expires_at=None
            )
        raise


def _run(person_import: PersonImport, token: str, on_chunk, chunk_size) -> PersonImport:
    try:
        if person_import.company is None:
            raise InvalidSchemaName(
                f"Schema name for company {person_import.company_key} (is null was not found)"
            )
        options = {"chunk_size": chunk_size} if chunk_size else {}
        runner = (
            ImportRun if person_import.kind == PersonImport.Kind.PERSONS else SubscriptionFileRun
        )
        runner(person_import, lease_token=token, on_chunk=on_chunk, **options).run()
    except ImportStopped:
        person_import.refresh_from_db()
        if person_import.cancel_requested and person_import.lease_token == token:
            _finish(person_import, Status.CANCELED)
        return person_import
    except DomainError as error:
        _finish(person_import, Status.FAILED, error)
        return person_import
    except FileNotFoundError:
        _finish(person_import, Status.FAILED, message="The import file is no longer there")
        return person_import
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task retries and resumes after the last chunk
    except Exception as error:  # noqa: BLE001 - never leave an import "running" for good
        logger.exception("import %s: stopped on an unexpected error", person_import.pk)
        person_import.refresh_from_db()
        _finish(person_import, Status.FAILED, ImportInterrupted(
            f"The import stopped after {person_import.records_done} records "
            f"({type(error).__name__}: {str(error)[:200]}); the records after them were not "
            "applied: fix the file and import it again, or import its remaining rows"
        ))  # fmt: skip
        return person_import
    _finish(person_import, Status.FINISHED)
    return person_import


def _finish(person_import: PersonImport, status: str, error: DomainError | None = None,
            message: str = "") -> None:  # fmt: skip
    person_import.refresh_from_db()
    person_import.status = status
    person_import.finished_at = timezone.now()
    person_import.lease_expires_at = None
    if error is not None:
        person_import.error_class = error.error_class
        person_import.error_message = storable_text(error.message)
    elif message:
        person_import.error_class = "FileEngine::FileNotFound"
        person_import.error_message = message
    person_import.error_report_path = write_error_report(person_import)
    person_import.save()


def person_imports_stalled(*, limit: int = 100) -> list[int]:
    """Ids of imports nobody is running: running with the lease expired or released (a
    killed worker, a lost or parked broker message), or pending for longer than a lease
    (the task was never delivered). The scheduler enqueues each; the run's claim is
    conditional, so a duplicate does nothing."""
    now = timezone.now()
    stalled = PersonImport.objects.filter(
        Q(status=Status.RUNNING, lease_expires_at__isnull=True)
        | Q(status=Status.RUNNING, lease_expires_at__lt=now)
        | Q(status=Status.PENDING, created_at__lt=now - lease()),
        cancel_requested=False,
    )
    return list(stalled.order_by("id").values_list("id", flat=True)[:limit])


@transaction.atomic
def person_import_cancel(person_import: PersonImport) -> None:
    """Ask a pending or running import to stop after its current chunk (applied stay)."""
    PersonImport.objects.filter(pk=person_import.pk).update(cancel_requested=True)
    # Nobody is running a pending import: cancel it at once.
    pending = PersonImport.objects.filter(pk=person_import.pk, status=Status.PENDING).update(
        status=Status.CANCELED, finished_at=timezone.now()
    )
    if not pending:
        PersonImport.objects.filter(
            Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=timezone.now()),
            pk=person_import.pk,
            status=Status.RUNNING,
        ).update(status=Status.CANCELED, finished_at=timezone.now())
    person_import.refresh_from_db()


def person_import_enqueue(person_import: PersonImport) -> None:
    """Run the import on the `imports` queue once the current transaction commits."""
    import_id = person_import.pk
    # By name: imports.tasks imports this module to run the import.
    transaction.on_commit(lambda: enqueue(IMPORT_TASK, import_id))
