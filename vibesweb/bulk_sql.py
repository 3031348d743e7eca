"""Set-based SQL helpers for bulk writers (the person import, the consent ledger, the
subscription files, a wallet message): arrays sent as one text parameter, COPY's text
format, and a psycopg cursor on Django's connection for binary parameters and COPY."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def binary_cursor() -> Iterator[psycopg.Cursor]:
    """A psycopg cursor on Django's connection and transaction, for `%b` parameters.

    Django's cursor binds parameters client-side, quoting and escaping every element of
    an array as text; `%b` sends the chunk's arrays in binary, ten times cheaper.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


# Arrays travel as one text parameter that the server splits, when their values allow:
# joining is nearly free, where psycopg adapts every element of a list (on the thread
# that drives the database, while the database waits). Values holding the separators
# (control characters that no MDN, JSON text or id holds) or empty go as binary arrays.
_SEPARATOR = "\x1f"
_NULL_MARK = "\x1e"


def sql_array(values: list, element: str) -> tuple[str, object]:
    """(SQL, parameter) of an array of `element` holding `values` (strings, ints or None)."""
    if element == "bigint":
        return "string_to_array(%s, ',')::bigint[]", ",".join(map(str, values))
    nulls = values.count(None)
    texts = [_NULL_MARK if value is None else value for value in values] if nulls else values
    joined = _SEPARATOR.join(texts)
    if (
        joined.count(_SEPARATOR) == len(values) - 1
        and joined.count(_NULL_MARK) == nulls
        and "" not in texts
    ):
        return f"string_to_array(%s, E'\\x1f', E'\\x1e')::{element}[]", joined
    return f"%b::{element}[]", values


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


NULL = "\\N"


def copy_text(value: str | None) -> str:
    """A value as COPY's text format writes it: \\N for NULL, separators escaped."""
    if value is None:
        return NULL
    # Tab, newline and carriage return are not printable; most values have none of four.
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value
