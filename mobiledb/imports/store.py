"""The import's database access: a few set-based statements per chunk of rows.

Reads find every person a chunk refers to in one query per kind of identifier; writes
are one bulk statement each for new and changed persons: `executemany` in the chunk's
transaction on SQLite; on PostgreSQL `COPY` into the table for new rows and one
`UPDATE ... FROM unnest(arrays)` for changed rows. Ids of new persons are taken up
front (the sequence on PostgreSQL; under SQLite's write lock, past the largest used),
so no row needs a round trip of its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

import psycopg
from django.db import connection

from ..models import Person

TABLE = Person._meta.db_table
_COLUMN = {f.name: f.column for f in Person._meta.concrete_fields}
_BATCH = 2000
_READ_COLUMNS = ("id", "external_person_id", "mdn", "carrier_code", "custom_fields")
_INSERT_FIELDS = (
    "id",
    "company",
    "person_key",
    "external_person_id",
    "mdn",
    "carrier_code",
    "custom_fields",
    "created_at",
    "updated_at",
)
_UPDATE_FIELDS = ("external_person_id", "mdn", "carrier_code", "custom_fields")


def _columns(names: Iterable[str]) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(_COLUMN[name]) for name in names)


class PersonStore:
    """Reads and writes persons of one company for the import engine."""

    def __init__(self, company_id: int):
        self.company_id = company_id
        self.postgres = connection.vendor == "postgresql"
        self.native_uuid = connection.features.has_native_uuid_field
        columns = _columns(_READ_COLUMNS)
        # PostgreSQL: one array parameter (cheap to send and plan, whatever its length)
        # and the rows locked until the chunk commits; SQLite: IN lists, in batches, under
        # the write lock the transaction took at BEGIN IMMEDIATE.
        where = "= ANY(%s::{array})" if self.postgres else "IN ({marks})"
        self._select = (
            f"SELECT {columns} FROM {connection.ops.quote_name(TABLE)} "
            f"WHERE {_COLUMN['company']} = %s AND {{column}} {where}"
            + (" FOR UPDATE" if self.postgres else "")
        )

    def refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the person table when its statistics are missing or stale.

        A bulk load outruns autovacuum; without statistics the planner reads a whole
        company's persons for every chunk's lookup (160 ms instead of 2 ms per query).
        """
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_live_tup, n_mod_since_analyze, "
                "COALESCE(last_analyze, last_autoanalyze) IS NULL "
                "FROM pg_stat_user_tables WHERE relid = %s::regclass",
                [TABLE],
            )
            row = cursor.fetchone()
            if row is None:
                return
            live, modified, never = row
            if never or modified > max(10_000, live // 5):
                cursor.execute(f"ANALYZE {TABLE}")

    # --- reads -------------------------------------------------------------------------

    def find(self, field: str, values: list) -> list[tuple]:
        """Rows of _READ_COLUMNS whose `field` is one of `values`."""
        column = _COLUMN[field]
        with connection.cursor() as cursor:
            if self.postgres:
                array = {"id": "bigint[]", "person_key": "uuid[]"}.get(field, "text[]")
                cursor.execute(
                    self._select.format(column=column, array=array), [self.company_id, values]
                )
                return cursor.fetchall()
            if field == "person_key":
                values = [uuid.UUID(value).hex for value in values]
            found: list[tuple] = []
            for start in range(0, len(values), _BATCH):
                batch = values[start : start + _BATCH]
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(self._select.format(column=column, marks=marks),
                               [self.company_id, *batch])  # fmt: skip
                found.extend(cursor.fetchall())
        return found

    def find_keys(self, keys: list[str]) -> list[tuple[int, str]]:
        """(id, person_key text) of the company's persons with one of `keys`."""
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    f"SELECT id, person_key FROM {TABLE} WHERE company_id = %s "
                    "AND person_key = ANY(%s::uuid[])",
                    [self.company_id, keys],
                )
            else:
                hex_keys = [uuid.UUID(key).hex for key in keys]
                cursor.execute(
                    f'SELECT id, person_key FROM "{TABLE}" WHERE company_id = %s '
                    f"AND person_key IN ({', '.join(['%s'] * len(hex_keys))})",
                    [self.company_id, *hex_keys],
                )
            return [(pk, self.person_key_text(key)) for pk, key in cursor.fetchall()]

    def details(self, ids: list[int]) -> dict[int, tuple]:
        """{id: (person_key UUID, created_at)}: what callbacks add to the rows a chunk read."""
        return {
            pk: (key, created_at)
            for pk, key, created_at in Person.objects.filter(pk__in=ids).values_list(
                "id", "person_key", "created_at"
            )
        }

    def person_key_text(self, value) -> str:
        return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(value))

    @staticmethod
    def fields_of(stored) -> dict:
        if stored is None:
            return {}
        return json.loads(stored) if isinstance(stored, str | bytes) else dict(stored)

    # --- writes ------------------------------------------------------------------------

    def new_ids(self, count: int) -> list[int]:
        """`count` unused ids for new persons (call inside the chunk's transaction)."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [TABLE, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the write lock, so nobody else takes ids now.
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{TABLE}"')
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [TABLE])
            row = cursor.fetchone()
            highest = max(highest, row[0] if row else 0)
        return list(range(highest + 1, highest + 1 + count))

    def insert(self, rows: list[tuple], now: datetime) -> None:
        """Rows of (id, person_key as 32 hex digits, external_person_id, mdn, carrier, fields)."""
        if not rows:
            return
        company_id = self.company_id
        if self.postgres:
            copy_sql = f"COPY {TABLE} ({_columns(_INSERT_FIELDS)}) FROM STDIN"
            # wrap_database_errors: psycopg's errors become Django's (IntegrityError, ...).
            with (
                connection.cursor() as cursor,
                connection.wrap_database_errors,
                cursor.cursor.copy(copy_sql) as copy,
            ):
                write = copy.write_row
                for pk, key, external_id, mdn, carrier, fields in rows:
                    write((pk, company_id, key, external_id, mdn, carrier,
                           json.dumps(fields), now, now))  # fmt: skip
            return
        stamp = connection.ops.adapt_datetimefield_value(now)
        params = [
            (pk, company_id, key, external_id, mdn, carrier, json.dumps(fields), stamp, stamp)
            for pk, key, external_id, mdn, carrier, fields in rows
        ]
        marks = ", ".join(["%s"] * len(_INSERT_FIELDS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{TABLE}" ({_columns(_INSERT_FIELDS)}) VALUES ({marks})', params
            )

    def update(self, rows: list[tuple], now: datetime) -> None:
        """Rows of (id, external_person_id, mdn, carrier_code, fields)."""
        self._update(_UPDATE_FIELDS, rows, now)

    def update_fields(self, rows: list[tuple], now: datetime) -> None:
        """Rows of (id, fields): the common change, which leaves the MDN and id indexes be."""
        self._update(("custom_fields",), rows, now)

    def _update(self, names: tuple, rows: list[tuple], now: datetime) -> None:
        if not rows:
            return
        json_at = len(names)  # custom_fields is last
        if self.postgres:
            self._update_postgres(names, rows, now)
            return
        stamp = connection.ops.adapt_datetimefield_value(now)
        assignments = ", ".join(f"{_COLUMN[name]} = %s" for name in names)
        params = [(*row[1:json_at], json.dumps(row[json_at]), stamp, row[0]) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{TABLE}" SET {assignments}, updated_at = %s WHERE id = %s', params
            )

    def _update_postgres(self, names: tuple, rows: list[tuple], now: datetime) -> None:
        # One statement, the new values as array parameters: no staging table to fill,
        # truncate and analyze per chunk (the planner's default guess for unnest, 100 rows,
        # already picks the primary key index).
        types = {"external_person_id": "text[]", "mdn": "text[]", "carrier_code": "text[]",
                 "custom_fields": "text[]"}  # fmt: skip
        json_at = len(names)
        columns = [[row[0] for row in rows]]
        columns += [[row[at] for row in rows] for at in range(1, json_at)]
        columns.append([json.dumps(row[json_at]) for row in rows])
        arrays = ", ".join(["%b::bigint[]", *(f"%b::{types[name]}" for name in names)])
        assignments = ", ".join(
            f"{_COLUMN[name]} = v.{name}" + ("::jsonb" if name == "custom_fields" else "")
            for name in names
        )
        # The arrays travel in binary (%b) through a psycopg cursor on the same connection
        # and transaction: as text, every JSON string is quoted and escaped element by
        # element, which cost ten times more than sending it.
        connection.ensure_connection()
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(
                f"UPDATE {TABLE} AS p SET {assignments}, updated_at = %s "
                f"FROM unnest({arrays}) AS v(id, {', '.join(names)}) WHERE p.id = v.id",
                [now, *columns],
            )
