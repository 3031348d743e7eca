"""The import's database access: a few set-based statements per chunk of rows.

Reads find every person a chunk refers to in one query per kind of identifier; writes
are one bulk statement each for new and changed persons: `executemany` in the chunk's
transaction on SQLite; on PostgreSQL `COPY` into the table for new rows and one
`UPDATE ... FROM unnest(arrays)` for changed rows. Ids of new persons are taken up
front (the sequence on PostgreSQL; under SQLite's write lock, past the largest used),
so no row needs a round trip of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

import orjson
from django.db import connection

from vibesweb.bulk_sql import NULL
from vibesweb.bulk_sql import binary_cursor as _binary_cursor
from vibesweb.bulk_sql import copy_text as _copy_text
from vibesweb.bulk_sql import sql_array as _array

from ..persons.models import Person

TABLE = Person._meta.db_table
_COLUMN = {f.name: f.column for f in Person._meta.concrete_fields}
_BATCH = 2000
# index_probes_only's session settings.
# A chunk's COMMIT need not wait for its WAL to reach the disk (begin_chunk says why).
_COMMITS_WITHOUT_WAL_WAIT = {"synchronous_commit": "off"}
_INDEX_PROBES = {
    "enable_hashjoin": "off",
    "enable_mergejoin": "off",
    "max_parallel_workers_per_gather": "0",
}
_READ_COLUMNS = ("id", "external_person_id", "mdn", "carrier_code", "custom_fields")
# PostgreSQL's row version: a row's xmin changes with every write of it.
_VERSION = {"postgresql": "xmin::text", "sqlite": "NULL"}


class RowChanged(Exception):
    """A person changed between the chunk's read and its write (by another writer)."""


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


def _json(value) -> str:
    # orjson: the import serializes a million custom-field dicts; the standard library's
    # encoder was a tenth of its client time.
    return orjson.dumps(value).decode()


class PersonStore:
    """Reads and writes persons of one company for the import engine."""

    def __init__(self, company_id: int):
        self.company_id = company_id
        self.postgres = connection.vendor == "postgresql"
        self.native_uuid = connection.features.has_native_uuid_field
        self._sequence = None  # PostgreSQL: the oid of the id sequence, once looked up
        columns = f"{_columns(_READ_COLUMNS)}, {_VERSION[connection.vendor]}"
        table = connection.ops.quote_name(TABLE)
        if self.postgres:
            # A join against the unnested array, not `column = ANY(array)`: the planner
            # then always probes the index once per value. With ANY it priced 5,000
            # probes above a parallel scan of the whole table whenever its statistics
            # lagged a growing table, and such a scan took 5 times longer (and 3 processes).
            read = ", ".join(f"p.{name}" for name in columns.split(", "))
            self._select = (
                f"SELECT {read} FROM unnest({{array}}) AS wanted(value) "
                f"JOIN {table} AS p ON p.{_COLUMN['company']} = %s AND p.{{column}} = wanted.value"
            )
        else:
            # SQLite: IN lists, in batches, under the write lock the transaction took at
            # BEGIN IMMEDIATE.
            self._select = (
                f"SELECT {columns} FROM {table} "
                f"WHERE {_COLUMN['company']} = %s AND {{column}} IN ({{marks}})"
            )

    @contextmanager
    def index_probes_only(self) -> Iterator[None]:
        """PostgreSQL: plan the import's statements as index probes, for the whole run.

        Every lookup and update joins a chunk (thousands of values) to the person table
        (up to many millions of rows): probing an index once per value is the right plan
        at any size, and took 13 ms where the planner's own choice, a (parallel) scan of
        the whole table while it still held under a million or so rows, took 75 ms and
        three processes. (That the planner knows the company's persons at all is
        ImportRun._keep_statistics_current's.) The settings are the session's and are
        reset afterwards, so the connection serves others unchanged.
        """
        with self._session_settings(_INDEX_PROBES):
            yield

    @contextmanager
    def commits_without_waiting_for_wal(self) -> Iterator[None]:
        """PostgreSQL: begin_chunk's `synchronous_commit = off` for a whole run, set once
        for the session instead of once per chunk (a round trip less a chunk), and reset
        afterwards: the run's end is recorded durably. Safe for the reasons begin_chunk
        gives: each chunk commits its checkpoint with it."""
        with self._session_settings(_COMMITS_WITHOUT_WAL_WAIT):
            yield

    @contextmanager
    def _session_settings(self, settings: dict[str, str]) -> Iterator[None]:
        """PostgreSQL: `settings` for this connection's session, reset afterwards so that
        the connection serves others unchanged."""
        if not self.postgres:
            yield
            return
        _set(settings)
        try:
            yield
        finally:
            if connection.connection is not None and not connection.needs_rollback:
                with connection.cursor() as cursor:
                    cursor.execute("; ".join(f"RESET {name}" for name in settings))

    def plan_index_probes(self) -> None:
        """index_probes_only's settings, for the rest of this connection's session (a
        pipelined import's planning thread: its connection is closed after the run)."""
        if self.postgres:
            _set(_INDEX_PROBES)

    def plan_writes(self) -> None:
        """plan_index_probes, and commits_without_waiting_for_wal's setting, for the rest of
        this connection's session (a pipelined import's writing thread, the same way)."""
        if self.postgres:
            _set({**_INDEX_PROBES, **_COMMITS_WITHOUT_WAL_WAIT})

    def check_constraints_now(self) -> None:
        """PostgreSQL: check the transaction's deferred foreign keys now rather than at its
        COMMIT (and every later one as its statement ends): a writer that commits in turn
        checks them while the one before is still written, not after waiting for it."""
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the person table when its statistics are missing or stale.

        A bulk load outruns autovacuum. Called before an import (with no statistics, the
        planner takes the table for empty and joins the other way round, reading all of a
        company's persons per chunk) and after it, so the API's and the admin's queries
        plan with the table as the import left it.
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

    def analyze(self) -> None:
        """PostgreSQL: ANALYZE the person table now (ImportRun decides when)."""
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {TABLE}")

    def begin_chunk(self) -> str | None:
        """Start a chunk's transaction: on PostgreSQL its row version (transaction id).

        Also: its COMMIT returns before its WAL reaches the disk.
        Safe for the import alone: the chunk's checkpoint is in the same transaction, so a
        database crash that loses the last chunks loses their checkpoint with them and the
        resumed run applies them again; nothing outside the database learned of them
        (callback deliveries start from committed outbox rows). The import's end is
        recorded durably as usual.
        """
        if not self.postgres:
            return None
        with connection.cursor() as cursor:
            # xmin holds the 32 bits of the 64-bit transaction id without its epoch.
            cursor.execute(
                "SELECT set_config('synchronous_commit', 'off', true), "
                "mod(pg_current_xact_id()::text::bigint, 4294967296)::text"
            )
            return cursor.fetchone()[1]

    # --- reads -------------------------------------------------------------------------

    def find(self, field: str, values: list, *, lock: bool = True) -> list[tuple]:
        """Rows of _READ_COLUMNS and the row version, whose `field` is one of `values`."""
        column = _COLUMN[field]
        if self.postgres:
            element = {"id": "bigint", "person_key": "uuid"}.get(field, "text")
            # Sorted, the probes walk the index in order and share its pages.
            array, param = _array(sorted(values), element)
            select = self._select.format(column=column, array=array)
            with _binary_cursor() as cursor:
                cursor.execute(select + (" FOR UPDATE OF p" if lock else ""),
                               [param, self.company_id])  # fmt: skip
                return cursor.fetchall()
        with connection.cursor() as cursor:
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

    def person_key_text(self, value) -> str:
        return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(value))

    @staticmethod
    def fields_of(stored) -> dict:
        if stored is None:
            return {}
        return orjson.loads(stored) if isinstance(stored, str | bytes) else dict(stored)

    # --- writes ------------------------------------------------------------------------

    def new_ids(self, count: int) -> list[int]:
        """`count` unused ids for new persons (call inside the chunk's transaction)."""
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                if self._sequence is None:
                    cursor.execute(
                        "SELECT pg_get_serial_sequence(%s, 'id')::regclass::oid", [TABLE]
                    )
                    self._sequence = cursor.fetchone()[0]
                # The sequence by oid: pg_get_serial_sequence() in the select list would
                # run once per id, doubling the cost of reserving them.
                cursor.execute(
                    "SELECT nextval(%s::oid) FROM generate_series(1, %s)", [self._sequence, count]
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the transaction holds the write lock, so nobody else takes ids now.
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{TABLE}"')
            highest = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [TABLE])
            row = cursor.fetchone()
            highest = max(highest, row[0] if row else 0)
        return list(range(highest + 1, highest + 1 + count))

    def write(self, moved: list, changed: list, created: list, now: datetime) -> None:
        """A chunk's persons: identity changes, custom-field changes, then new persons.

        moved: rows of (id, external_person_id, mdn, carrier_code, fields, version);
        changed: rows of (id, fields, version), the common change, leaving the MDN index
        be; created: rows of (id, person_key as 32 hex digits, external_person_id, mdn,
        carrier, fields). Changed rows go first: an external id they give up may be taken
        by a new row. RowChanged (PostgreSQL) if a row's version is no longer `version`:
        another writer changed it since it was read, and the chunk must be applied again.
        """
        if self.postgres:
            self.execute_writes(self.prepare_writes(moved, changed, created, now))
            return
        self._update_sqlite(_UPDATE_FIELDS, moved, now)
        self._update_sqlite(("custom_fields",), changed, now)
        self._insert_sqlite(created, now)

    def _insert_sqlite(self, rows: list[tuple], now: datetime) -> None:
        if not rows:
            return
        company_id = self.company_id
        stamp = connection.ops.adapt_datetimefield_value(now)
        params = [
            (pk, company_id, key, external_id, mdn, carrier, _json(fields), stamp, stamp)
            for pk, key, external_id, mdn, carrier, fields in rows
        ]
        marks = ", ".join(["%s"] * len(_INSERT_FIELDS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{TABLE}" ({_columns(_INSERT_FIELDS)}) VALUES ({marks})', params
            )

    def _update_sqlite(self, names: tuple, rows: list[tuple], now: datetime) -> None:
        if not rows:
            return
        json_at = len(names)  # custom_fields is last
        stamp = connection.ops.adapt_datetimefield_value(now)
        assignments = ", ".join(f"{_COLUMN[name]} = %s" for name in names)
        params = [(*row[1:json_at], _json(row[json_at]), stamp, row[0]) for row in rows]
        with connection.cursor() as cursor:
            cursor.executemany(
                f'UPDATE "{TABLE}" SET {assignments}, updated_at = %s WHERE id = %s', params
            )

    def _prepare_insert(self, rows: list[tuple], now: datetime) -> bytes:
        """PostgreSQL: new persons as the data of a text-format COPY (no database).

        Built in one go, a line per row, instead of row by row through the COPY protocol's
        per-value adaptation: the writer then only sends it.
        """
        stamp = now.isoformat()
        head = f"\t{self.company_id}\t"
        # An MDN is E.164 (validation.normalize_mdn): nothing in it needs escaping. JSON
        # from orjson holds no raw tab or newline: only its backslashes need doubling.
        lines = [
            f"{pk}{head}{key}\t{_copy_text(external_id)}\t{mdn or NULL}\t"
            f"{_copy_text(carrier)}\t{_copy_json(_json(fields))}\t{stamp}\t{stamp}\n"
            for pk, key, external_id, mdn, carrier, fields in rows
        ]
        return "".join(lines).encode()

    def _execute_insert(self, payload: bytes) -> None:
        if not payload:
            return
        copy_sql = f"COPY {TABLE} ({_columns(_INSERT_FIELDS)}) FROM STDIN"
        # wrap_database_errors: psycopg's errors become Django's (IntegrityError, ...).
        with _binary_cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.write(payload)

    def prepare_writes(self, moved: list, changed: list, created: list, now: datetime) -> tuple:
        """PostgreSQL: write()'s statements, ready to send (no database): execute_writes."""
        return (
            self._prepare_update(_UPDATE_FIELDS, moved, now),
            self._prepare_update(("custom_fields",), changed, now),
            self._prepare_insert(created, now),
        )

    def execute_writes(self, prepared: tuple) -> None:
        moved, changed, created = prepared
        self._execute_update(moved)
        self._execute_update(changed)
        self._execute_insert(created)

    def _prepare_update(self, names: tuple, rows: list[tuple], now: datetime) -> tuple | None:
        """PostgreSQL: the UPDATE of `names` for `rows` (no database), for _execute_update.

        One statement, the new values as array parameters: no staging table to fill,
        truncate and analyze per chunk (the run's planner settings, index_probes_only,
        make it a probe of the primary key per row).
        """
        if not rows:
            return None
        json_at = len(names)
        ids = _array([row[0] for row in rows], "bigint")
        values = [_array([row[at] for row in rows], "text") for at in range(1, json_at)]
        values.append(_array([_json(row[json_at]) for row in rows], "text"))
        versions = _array([row[json_at + 1] for row in rows], "text")
        arrays = [ids, *values, versions]
        assignments = ", ".join(
            f"{_COLUMN[name]} = v.{name}" + ("::jsonb" if name == "custom_fields" else "")
            for name in names
        )
        sql = (
            f"UPDATE {TABLE} AS p SET {assignments}, updated_at = %s "
            f"FROM unnest({', '.join(array for array, _ in arrays)}) "
            f"AS v(id, {', '.join(names)}, version) "
            "WHERE p.id = v.id AND (v.version IS NULL OR p.xmin = v.version::xid)"
        )
        columns = [param for _, param in arrays]
        return sql, [now, *columns], len(rows)

    def _execute_update(self, prepared: tuple | None) -> None:
        """RowChanged if fewer rows than asked matched their version."""
        if prepared is None:
            return
        sql, params, expected = prepared
        with _binary_cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount != expected:
                raise RowChanged()


def _copy_json(text: str) -> str:
    return text.replace("\\", "\\\\") if "\\" in text else text


def _set(settings: dict[str, str]) -> None:
    """SET each of `settings` (names and values of this module's own) for the session."""
    with connection.cursor() as cursor:
        cursor.execute("; ".join(f"SET {name} = {value}" for name, value in settings.items()))
