"""Live progress of an import: rows done, rate and ETA (the admin polls it as JSON)."""

from __future__ import annotations

from django.utils import timezone

from .models import PersonImport


def import_progress(person_import: PersonImport) -> dict:
    """Rows done, percent of the file's bytes, rows/s, ETA in seconds (None if unknown)."""
    pi = person_import
    size = pi.file_size or 0
    finished = not pi.is_active
    percent = 100.0 if pi.status == PersonImport.Status.FINISHED else 0.0
    if not finished and size:
        percent = min(99.9, 100.0 * pi.bytes_done / size)
    elif finished and size and pi.status != PersonImport.Status.FINISHED:
        percent = min(100.0, 100.0 * pi.bytes_done / size)
    rate = eta = None
    if pi.started_at:
        end = pi.finished_at or timezone.now()
        elapsed = max((end - pi.started_at).total_seconds(), 0.001)
        rate = pi.rows / elapsed
        if not finished and pi.bytes_done and size:
            eta = max(0.0, (size - pi.bytes_done) * elapsed / pi.bytes_done)
    return {
        "id": pi.pk,
        "status": pi.status,
        "finished": finished,
        "rows": pi.rows,
        "created": pi.created,
        "updated": pi.updated,
        "failed": pi.failed,
        "percent": round(percent, 1),
        "rows_per_second": round(rate, 1) if rate is not None else None,
        "eta_seconds": round(eta) if eta is not None else None,
        "error_class": pi.error_class,
        "error_message": pi.error_message,
    }
