"""Export persons as a `.persons` file that imports back to the same data.

Identified by external_person_id and mdn (so it imports into this or another company),
custom fields as the import reads them: selects by option key, multi-selects joined by
the Multi-Select-Delimiter, dates in the platform format. Cells that a spreadsheet would
run as a formula (starting with = + - @ TAB CR), column names included, are written
behind an apostrophe, which the importer removes again (mobiledb.imports.cells).
Streamed: memory stays
flat whatever the number of persons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from ..persons.models import Person
from ..persons.selectors import custom_field_schema
from .cells import escape_cell

MULTI_SELECT_DELIMITER = "|"


def _text(value, data_type: str) -> str:
    if value is None:
        return ""
    if data_type == "multi_select":
        return MULTI_SELECT_DELIMITER.join(value)
    if data_type == "boolean":
        return "true" if value else "false"
    return str(value)


def persons_export_lines(company, persons: QuerySet[Person] | None = None) -> Iterator[str]:
    """The `.persons` file of `persons` (default: all of `company`'s), in text pieces."""
    schema = custom_field_schema(company)
    fields = sorted(schema.by_name.values(), key=lambda spec: spec.name)
    buffer = io.StringIO()
    buffer.write(f"Multi-Select-Delimiter: {MULTI_SELECT_DELIMITER}\n\n")
    # "\r\n" (RFC 4180): csv quotes a cell holding any character of the line terminator,
    # so a bare CR in a value is quoted too (with "\n" it was not, and the importer took
    # it for a line break: the rest of the value became a row of its own).
    writer = csv.writer(buffer, lineterminator="\r\n")
    # Custom field names are the company's text too: guarded like values.
    writer.writerow(
        [
            escape_cell(name)
            for name in ["external_person_id", "mdn", *(spec.name for spec in fields)]
        ]
    )
    queryset = persons if persons is not None else Person.objects.all()
    rows = (
        queryset.filter(company=company)
        .order_by("id")
        .values_list("external_person_id", "mdn", "custom_fields")
    )
    for external_id, mdn, values in rows.iterator(chunk_size=2000):
        values = values or {}
        cells = [external_id or "", mdn or ""]
        cells.extend(_text(values.get(spec.name), spec.data_type) for spec in fields)
        writer.writerow([escape_cell(cell) for cell in cells])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
