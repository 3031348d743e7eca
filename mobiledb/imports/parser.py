"""Reading `.persons` files (SPEC section 7, seeds/004): header block, columns, records.

Streaming throughout: the file is decoded and split incrementally, never read whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings

from vibesweb.inputs import is_unsafe_text

from ..errors import InvalidImportFileFormat, Unknown8BitEncodingDetected
from .cells import unescape_cell

IDENTIFYING_COLUMNS = ("person_id", "person_key", "external_person_id", "mdn", "vibes_device_id")
_HEADER_LINE = re.compile(r"^\s*(fields|delimiter|multi-select-delimiter)\s*:(.*)$", re.I)
_ANY_HEADER_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s*:(.*)$")
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "pipe": "|", "semicolon": ";"}
_BLOCK = 1 << 20
# csv's default field limit (128 KiB) is plenty for a cell, and caps a runaway quote.
csv.field_size_limit(1 << 20)


@dataclass
class FileLayout:
    """What the header block (or the first row) says about the body."""

    columns: list[str]
    delimiter: str = ","
    multi_select_delimiter: str = "|"
    # Lines before the first data record (header block and column-name row).
    lines_before_body: int = 0
    header_values: dict[str, str] = field(default_factory=dict)


def check_encoding(stream: BinaryIO) -> None:
    """Raise Unknown8BitEncodingDetected unless the whole file is UTF-8 (ASCII is UTF-8).

    Runs before any row is applied, so a bad byte late in the file changes nothing.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    stream.seek(0)
    try:
        while block := stream.read(_BLOCK):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise Unknown8BitEncodingDetected(
            f"The file is not UTF-8 or ASCII encoded (byte 0x{error.object[error.start]:02x})"
        ) from None
    finally:
        stream.seek(0)


def _text(stream: BinaryIO) -> io.TextIOWrapper:
    # utf-8-sig drops a byte order mark; newline="" lets csv see quoted line breaks.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _delimiter(value: str, name: str) -> str:
    text = value.strip()
    # Whitespace itself: "Delimiter:\t", "Delimiter: \t", "Delimiter:  " (a space).
    whitespace = value.lstrip(" ")[:1] or value[:1]
    text = _DELIMITER_WORDS.get(text.lower(), text) if text else whitespace
    if len(text) != 1 or text in '\r\n"':
        raise InvalidImportFileFormat(f"{name} must be a single character, got '{value[:10]}'")
    return text


def _bounded_lines(text: io.TextIOWrapper, *, first_line: int = 1) -> Iterator[str]:
    """The file's lines, refusing one longer than PERSON_IMPORT_MAX_LINE_CHARS: a line is
    held whole in memory, so its length bounds the import's memory (SPEC section 9)."""
    limit = settings.PERSON_IMPORT_MAX_LINE_CHARS
    number = first_line
    while line := text.readline(limit + 1):
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise InvalidImportFileFormat(
                f"Line {number} is longer than {limit} characters (PERSON_IMPORT_MAX_LINE_CHARS)"
            )
        number += 1
        yield line


def _read_header_block(text: io.TextIOWrapper) -> tuple[dict[str, str], int, str | None]:
    """Header lines up to the empty line; returns (values, lines used, first body line)."""
    lines = _bounded_lines(text)
    first = next(lines, "")
    if not _HEADER_LINE.match(first.rstrip("\r\n")):
        return {}, 0, first
    values: dict[str, str] = {}
    used = 0
    line = first
    while line:
        used += 1
        stripped = line.rstrip("\r\n")
        if stripped.strip() == "":
            break  # seeds/004: the header block ends with an empty line
        match = _ANY_HEADER_LINE.match(stripped)
        if match is None:
            raise InvalidImportFileFormat(
                f"Header line {used} is not 'Name: value' (end the headers with an empty line)"
            )
        name = match.group(1).lower()
        if name in {"fields", "delimiter", "multi-select-delimiter"}:
            values[name] = match.group(2).strip() if name == "fields" else match.group(2)
        line = next(lines, "")
    return values, used, None


def _columns_from_fields(fields_value: str, delimiter: str) -> list[str]:
    # seeds/004: "a comma separated list"; a file that lists them with its own
    # delimiter (and no comma) is read that way too.
    split_on = "," if "," in fields_value or delimiter not in fields_value else delimiter
    return next(csv.reader([fields_value], delimiter=split_on), [])


def _check_columns(columns: list[str]) -> list[str]:
    columns = [unescape_cell(column) for column in columns]  # names guarded by the export
    limit = settings.PERSON_IMPORT_MAX_COLUMNS
    if len(columns) > limit:
        raise InvalidImportFileFormat(
            f"The file has {len(columns)} columns; at most {limit} are read "
            "(PERSON_IMPORT_MAX_COLUMNS)"
        )
    columns = [column.strip() for column in columns]
    seen: set[str] = set()
    for column in columns:
        if not column:
            raise InvalidImportFileFormat("A column has no name")
        if is_unsafe_text(column):
            raise InvalidImportFileFormat("A column name holds a NUL character")
        if column in seen:
            raise InvalidImportFileFormat(f"Column '{column[:100]}' appears twice")
        seen.add(column)
    if not seen.intersection(IDENTIFYING_COLUMNS):
        raise InvalidImportFileFormat()  # seeds/004: the file-level message, verbatim
    return columns


class PersonsFile:
    """A `.persons` file opened for reading: `layout`, then `records()` once."""

    def __init__(self, stream: BinaryIO):
        try:
            self._open(stream)
        except csv.Error as error:  # e.g. a column row past csv's field size limit
            raise InvalidImportFileFormat(f"The column names cannot be read: {error}") from None

    def _open(self, stream: BinaryIO) -> None:
        self._text = _text(stream)
        header, used, first_line = _read_header_block(self._text)
        delimiter = _delimiter(header.get("delimiter", ","), "Delimiter")
        multi = _delimiter(header.get("multi-select-delimiter", "|"), "Multi-Select-Delimiter")
        body = _bounded_lines(self._text, first_line=used + 1 + bool(first_line))
        lines = itertools.chain([first_line], body) if first_line else body
        self._reader = csv.reader(lines, delimiter=delimiter, strict=False)
        if "fields" in header:
            columns = _columns_from_fields(header["fields"], delimiter)
            before = used
        else:
            columns = self._first_row()
            before = used + self._reader.line_num
        self.layout = FileLayout(
            columns=_check_columns(columns),
            delimiter=delimiter,
            multi_select_delimiter=multi,
            lines_before_body=before,
            header_values=header,
        )
        self._lines_before_reader = before - self._reader.line_num

    def _first_row(self) -> list[str]:
        for row in self._reader:
            if row and any(cell.strip() for cell in row):
                return row
        raise InvalidImportFileFormat()

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Non-empty data records in file order: (line it starts on, 1-based; cells)."""
        reader = self._reader
        offset = self._lines_before_reader
        previous_end = reader.line_num
        try:
            for cells in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not cells or (len(cells) == 1 and cells[0] == ""):
                    continue  # a blank line is not a record
                yield start + offset, cells
        except csv.Error as error:
            raise InvalidImportFileFormat(
                f"Line {previous_end + 1 + offset}: {error}; this record and the rows after it "
                "were not applied"
            ) from None
