"""One record of a `.persons` file read into checked values (no database access).

Every check is the shared one: MDNs by `normalize_mdn`, custom field values by
`clean_custom_field_value`, unknown fields by `CustomFieldSchema.spec`, person ids and
keys by the selectors' parsers. An empty cell is "leave unchanged" (seeds/004). A cell the
export guarded against formula injection (`'+1...`, `'=...`) is read without its apostrophe.
"""

from __future__ import annotations

import operator

from vibesweb.inputs import is_unsafe_text, refuse_unsafe_text

from ..errors import InvalidExternalPersonId, InvalidImportFileFormat, UnbalancedQuote
from ..persons.models import Person
from ..persons.selectors import person_id_from_text, person_key_from_text
from ..validation import CustomFieldSchema, clean_custom_field_value, normalize_mdn
from .cells import escape_cell, unescape_cell  # noqa: F401 - escape_cell re-exported
from .parser import FileLayout

EXTERNAL_ID_MAX_LENGTH = Person._meta.get_field("external_person_id").max_length
_IDENTITY_COLUMNS = ("person_id", "person_key", "external_person_id", "mdn", "vibes_device_id")


_starts_with_apostrophe = operator.methodcaller("startswith", "'")


class RowValues:
    """The checked values of one record; None means the cell was empty."""

    __slots__ = ("person_id", "person_key", "external_person_id", "mdn", "device_id", "fields")

    def __init__(self):
        self.person_id: int | None = None
        self.person_key: str | None = None
        self.external_person_id: str | None = None
        self.mdn: str | None = None
        self.device_id: str | None = None
        self.fields: dict = {}


class RowReader:
    """Turns the cells of a record into RowValues, or raises the row's DomainError."""

    def __init__(self, layout: FileLayout, schema: CustomFieldSchema):
        columns = layout.columns
        self.width = len(columns)
        self.columns = columns
        self.delimiter = layout.multi_select_delimiter
        self.file_delimiter = layout.delimiter
        self.schema = schema
        index = {name: position for position, name in enumerate(columns)}
        self.person_id_at = index.get("person_id")
        self.person_key_at = index.get("person_key")
        self.external_id_at = index.get("external_person_id")
        self.mdn_at = index.get("mdn")
        self.device_at = index.get("vibes_device_id")
        # (position, name, spec or None for a column that names no custom field)
        self.custom = [
            (position, name, schema.by_name.get(name))
            for position, name in enumerate(columns)
            if name not in _IDENTITY_COLUMNS
        ]

    def read(self, cells: list[str]) -> RowValues:
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        elif len(cells) > self.width and any(cell.strip() for cell in cells[self.width :]):
            raise InvalidImportFileFormat(
                f"The row has {len(cells)} values but the file has {self.width} columns"
            )
        joined = "".join(cells)
        if is_unsafe_text(joined):  # one search per row: the import's hot path
            for name, cell in zip(self.columns, cells, strict=False):
                refuse_unsafe_text(cell, where=f"Column '{name[:100]}'")
        if "\n" in joined or "\r" in joined:
            self._refuse_swallowed_rows(cells)
        if any(map(_starts_with_apostrophe, cells)):
            cells = [unescape_cell(cell) for cell in cells]
        values = RowValues()
        at = self.person_id_at
        if at is not None and cells[at]:
            values.person_id = person_id_from_text(cells[at])
        at = self.person_key_at
        if at is not None and cells[at]:
            values.person_key = person_key_from_text(cells[at])
        at = self.external_id_at
        if at is not None and cells[at]:
            external_id = cells[at].strip()
            if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
                raise InvalidExternalPersonId(
                    f"external_person_id is longer than {EXTERNAL_ID_MAX_LENGTH} characters"
                )
            values.external_person_id = external_id or None
        at = self.mdn_at
        if at is not None and cells[at]:
            values.mdn = normalize_mdn(cells[at], api_version=2)  # seeds/004: E.164 or US 10
        at = self.device_at
        if at is not None and cells[at]:
            values.device_id = cells[at].strip() or None
        fields = values.fields
        for position, name, spec in self.custom:
            text = cells[position]
            if text == "":
                continue
            if spec is None:
                self.schema.spec(name)  # raises CustomFieldNotFound, the shared refusal
            fields[name] = clean_custom_field_value(
                spec, text, from_text=True, multi_select_delimiter=self.delimiter
            )
        return values

    def _refuse_swallowed_rows(self, cells: list[str]) -> None:
        """A quoted value spanning lines that look like records is an unbalanced quote
        that swallowed them (RFC 4180 allows line breaks in quotes, not whole rows):
        the record is an error row rather than silently applied with the rows lost."""
        needed = max(1, self.width - 1)
        for cell in cells:
            lines = cell.splitlines()
            if any(line.count(self.file_delimiter) >= needed for line in lines[1:]):
                raise UnbalancedQuote(
                    f"A quoted value runs over {len(lines)} lines that look like rows: "
                    "an unbalanced quote? The rows it holds were not applied"
                )
