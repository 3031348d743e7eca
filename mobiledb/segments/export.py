"""Persons as a plain CSV spreadsheet: UTF-8, one column per custom field (by its label),
values as a marketer reads them, and safe to open in a spreadsheet (no cell runs as a
formula). Streamed in chunks: memory stays flat whatever the number of persons."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from vibesweb.tenancy.models import Company

from ..persons.models import Person, PersonTag
from ..persons.selectors import custom_field_schema
from ..subscriptions.models import Subscription
from ..validation import FieldSpec

CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d[\d.]*$")


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet shows it, never run: a cell a spreadsheet would read as a
    formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe.
    Plain numbers (+16125550123, -4) stay as they are: they carry no formula."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def display_value(spec: FieldSpec | None, value: Any) -> str:
    """A stored custom field value as marketers read it: option labels, Yes/No, dates."""
    if value is None or value == "" or value == []:
        return ""
    if spec is None:
        return str(value)
    if spec.data_type == "boolean":
        return "Yes" if value else "No"
    if spec.data_type == "single_select":
        option = spec.options.get(value)
        return option.label if option else str(value)
    if spec.data_type == "multi_select":
        return ", ".join(spec.options[k].label if k in spec.options else k for k in value)
    if spec.data_type == "date":
        return str(value)[:10] if str(value).endswith("T00:00:00Z") else str(value)
    return str(value)


def persons_csv_lines(company: Company, persons: QuerySet[Person]) -> Iterator[str]:
    """The CSV of `persons` (of `company`), in text pieces."""
    schema = custom_field_schema(company)
    specs = list(schema.by_name.values())
    buffer = io.StringIO()
    buffer.write("\ufeff")  # lets spreadsheet programs read it as UTF-8
    writer = csv.writer(buffer, lineterminator="\r\n")
    header = ["person_id", "phone", "external_person_id", *(s.display_label for s in specs)]
    writer.writerow([safe_cell(cell) for cell in [*header, "subscribed lists", "tags", "created"]])
    rows = (
        persons.filter(company=company)
        .order_by("pk")
        .values_list("pk", "mdn", "external_person_id", "custom_fields", "created_at")
    )
    cursor = 0
    while True:
        chunk = list(rows.filter(pk__gt=cursor)[:CHUNK])
        if not chunk:
            break
        cursor = chunk[-1][0]
        ids = [row[0] for row in chunk]
        lists: dict[int, list[str]] = defaultdict(list)
        for person_id, name in Subscription.objects.filter(
            person_id__in=ids, opt_out_date__isnull=True
        ).values_list("person_id", "subscription_list__name"):
            lists[person_id].append(name)
        tags: dict[int, list[str]] = defaultdict(list)
        for person_id, tag in PersonTag.objects.filter(person_id__in=ids).values_list(
            "person_id", "tag"
        ):
            tags[person_id].append(tag)
        for pk, mdn, external_id, values, created_at in chunk:
            values = values or {}
            cells = [str(pk), mdn or "", external_id or ""]
            cells += [display_value(spec, values.get(spec.name)) for spec in specs]
            cells += ["; ".join(sorted(lists[pk])), "; ".join(sorted(tags[pk]))]
            cells.append(created_at.strftime("%Y-%m-%d %H:%M"))
            writer.writerow([safe_cell(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def csv_response(company: Company, persons: QuerySet[Person]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        persons_csv_lines(company, persons), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{company.key}-persons.csv"'
    return response
