"""A chunk's checkpoint: its error rows and the import's counters, written in the chunk's
transaction, then mirrored on the in-memory PersonImport once that transaction commits.

Every kind of import file (`.persons`, `.subscriptions`, `.opt_outs`) checkpoints this way,
so a resumed run skips exactly the records the database holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from vibesweb.inputs import storable_text

from .models import PersonImport, PersonImportError
from .report import original_row


class ImportStopped(Exception):
    """The checkpoint could not be written: canceled, or another worker took the lease."""


@dataclass(frozen=True)
class Checkpoint:
    """One chunk's progress: `errors` are (line, DomainError, cells) of its failed rows."""

    records: int
    created: int
    updated: int
    errors: list
    position: int  # of the file after the chunk

    def save(self, person_import: PersonImport, lease_token: str, reader) -> None:
        """Error rows and counters, in the chunk's transaction; ImportStopped if the run no
        longer holds the lease or was canceled. `reader`: the file's delimiter for the
        error report's original row (`file_delimiter`)."""
        if self.errors:
            PersonImportError.objects.bulk_create(
                PersonImportError(
                    person_import_id=person_import.pk,
                    row=line,
                    error_class=error.error_class,
                    message=type(error).default_message[:255],  # seeds/004's message
                    detail=storable_text(
                        error.message if error.message != type(error).default_message else ""
                    ),
                    original=storable_text(original_row(cells, reader)),
                )
                for line, error, cells in self.errors
            )
        changed = PersonImport.objects.filter(
            pk=person_import.pk, lease_token=lease_token, cancel_requested=False
        ).update(
            records_done=F("records_done") + self.records,
            rows=F("rows") + self.records,
            created=F("created") + self.created,
            updated=F("updated") + self.updated,
            failed=F("failed") + len(self.errors),
            bytes_done=self.position,
            lease_expires_at=timezone.now() + lease(),
        )
        if changed != 1:
            raise ImportStopped()

    def mirror(self, person_import: PersonImport) -> None:
        """The committed checkpoint on the in-memory PersonImport."""
        person_import.records_done += self.records
        person_import.rows += self.records
        person_import.created += self.created
        person_import.updated += self.updated
        person_import.failed += len(self.errors)
        person_import.bytes_done = self.position


def lease() -> timedelta:
    """How long a run's claim lasts without a checkpoint; a killed worker's import is
    resumed once it has passed (services.person_imports_stalled, the scheduler)."""
    return timedelta(seconds=settings.PERSON_IMPORT_LEASE_SECONDS)
