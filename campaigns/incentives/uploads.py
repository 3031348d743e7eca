"""Code files uploaded in the admin: stored on disk, loaded by the `imports` queue with
live progress (bytes and lines read), and a CSV report of every refused code."""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from vibesweb.errors import DomainError

from .loading import RefusedCode, incentive_codes_load
from .models import IncentiveCodeUpload, IncentivePool

logger = logging.getLogger(__name__)
Status = IncentiveCodeUpload.Status


def upload_folder(kind: str) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "incentives" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def incentive_code_upload_create(
    *, pool: IncentivePool, file_path: str, file_name: str, created_by=None
) -> IncentiveCodeUpload:
    """Record an upload of a stored file; tasks.incentive_code_upload_enqueue queues it."""
    upload = IncentiveCodeUpload.objects.create(
        company_id=pool.company_id,
        pool=pool,
        file_name=file_name[:255],
        file_path=file_path,
        file_size=os.path.getsize(file_path),
        created_by=created_by,
    )
    return upload


def incentive_code_upload_run(upload_id: int) -> bool:
    """Load upload `upload_id` if still queued (claimed once, so a redelivered task does
    nothing); returns whether this call ran it. A file-level error marks it failed."""
    now = timezone.now()
    claimed = IncentiveCodeUpload.objects.filter(pk=upload_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now
    )
    if not claimed:
        return False
    upload = IncentiveCodeUpload.objects.select_related("pool", "company").get(pk=upload_id)
    report_path = upload_folder("reports") / f"{upload.pk}-refused.csv"

    def progress(bytes_done: int, lines: int) -> None:
        IncentiveCodeUpload.objects.filter(pk=upload_id).update(bytes_done=bytes_done, lines=lines)

    try:
        with open(upload.file_path, "rb") as source, open(report_path, "w", newline="") as out:
            report = csv.writer(out)
            report.writerow(["line", "code", "reason"])

            def refused(item: RefusedCode) -> None:
                report.writerow([item.line, item.code, item.reason])

            upload.pool.company = upload.company
            result = incentive_codes_load(
                pool=upload.pool, source=source, on_refused=refused, on_progress=progress
            )
    except DomainError as error:
        _finish(upload_id, status=Status.FAILED, error_message=error.message)
        return True
    except Exception as error:
        logger.exception("incentive code upload %s failed", upload_id)
        _finish(upload_id, status=Status.FAILED, error_message=f"{type(error).__name__}: {error}")
        raise
    _finish(
        upload_id,
        status=Status.FINISHED,
        bytes_done=upload.file_size,
        lines=result.lines,
        added=result.added,
        refused=result.refused,
        report_path=str(report_path),
    )
    return True


def _finish(upload_id: int, **changes) -> None:
    IncentiveCodeUpload.objects.filter(pk=upload_id).update(finished_at=timezone.now(), **changes)


def upload_progress(upload: IncentiveCodeUpload) -> dict:
    """Lines read, percent of the file's bytes, lines/s, ETA (the admin polls it)."""
    size = upload.file_size or 0
    if upload.status == Status.FINISHED:
        percent = 100.0
    elif size:
        percent = min(99.9, 100.0 * upload.bytes_done / size)
    else:
        percent = 0.0
    rate = eta = None
    if upload.started_at:
        elapsed = max(
            ((upload.finished_at or timezone.now()) - upload.started_at).total_seconds(), 0.001
        )
        rate = upload.lines / elapsed
        if upload.is_active and upload.bytes_done and size:
            eta = max(0.0, (size - upload.bytes_done) * elapsed / upload.bytes_done)
    return {
        "id": upload.pk,
        "status": upload.status,
        "finished": not upload.is_active,
        "lines": upload.lines,
        "added": upload.added,
        "refused": upload.refused,
        "percent": round(percent, 1),
        "lines_per_second": round(rate, 1) if rate is not None else None,
        "eta_seconds": round(eta) if eta is not None else None,
        "error_message": upload.error_message,
    }
