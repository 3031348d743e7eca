"""The error report: one CSV line per failed row (row, error class, message, the row)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from .cells import escape_cell
from .models import PersonImport, PersonImportError

REPORT_COLUMNS = ["row", "error_class", "message", "detail", "original_row"]


def original_row(cells: list[str], reader) -> str:
    """The record as it was in the file (same delimiter, RFC 4180 quoting)."""
    buffer = io.StringIO()
    # "\r\n" so that cells holding a line break are quoted; the terminator is cut off.
    csv.writer(buffer, delimiter=reader.file_delimiter, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()[:-2]


def report_lines(person_import: PersonImport) -> Iterator[str]:
    """The report as CSV text lines, streamed from the database (memory stays flat)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(REPORT_COLUMNS)
    errors = (
        PersonImportError.objects.filter(person_import=person_import)
        .order_by("row", "id")
        .values_list("row", "error_class", "message", "detail", "original")
    )
    for entry in errors.iterator(chunk_size=2000):
        writer.writerow(_safe(entry))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _safe(entry: tuple) -> tuple:
    # The report is opened in spreadsheets: a cell starting with = + - @ must not run.
    return tuple(escape_cell(value) if isinstance(value, str) else value for value in entry)


def report_path(person_import: PersonImport) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "reports" / f"{person_import.pk}-errors.csv"


def write_error_report(person_import: PersonImport) -> str:
    """Write the report file next to the uploads; returns its path."""
    path = report_path(person_import)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as report:
        for chunk in report_lines(person_import):
            report.write(chunk)
    return str(path)
