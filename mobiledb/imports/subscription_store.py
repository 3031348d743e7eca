"""The subscription files' database access: a few set-based statements per chunk.

Lookups join the chunk's values, sent as one parameter (`json_each` on SQLite, an array
split by `string_to_array` on PostgreSQL), to the table: one statement per chunk instead of
an `IN (...)` list of thousands of parameters that Django would build and the planner price.
Writes are `executemany` on SQLite and `COPY` or one `UPDATE ... FROM unnest(...)` on
PostgreSQL. Everything runs in the chunk's transaction.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from django.db import connection
from django.utils.dateparse import parse_datetime
from psycopg.types.string import TextLoader

from vibesweb.bulk_sql import binary_cursor, copy_text, sql_array

from ..persons.models import Person
from ..subscriptions.models import Subscription, SuppressedNumber

_PERSONS = Person._meta.db_table
_SUBSCRIPTIONS = Subscription._meta.db_table
_SUPPRESSED = SuppressedNumber._meta.db_table


def _wanted(values: list[str]) -> tuple[str, object]:
    """(SQL of a one-column table `w(value)` holding `values` (texts), its parameter)."""
    if connection.vendor == "postgresql":
        array, param = sql_array(values, "text")
        return f"unnest({array}) AS w(value)", param
    return "json_each(%s) AS w", orjson.dumps(values).decode()


def _probe(join: str, table: str, alias: str, columns: str, condition: str) -> str:
    """`join` ("CROSS" or "LEFT") the rows of `table` meeting `condition` to each row
    before, as an index probe per row, whatever the planner knows of the tables.

    A table the run fills (silenced numbers) has no statistics yet: left to themselves,
    both databases scanned it whole and the chunk's values once per row of it. SQLite
    keeps the order of a CROSS JOIN; PostgreSQL probes a LATERAL subquery per row, and
    OFFSET 0 keeps it from being flattened into a join it would reorder.
    """
    if connection.vendor == "postgresql":
        on = " ON true" if join == "LEFT" else ""
        return (
            f"{join} JOIN LATERAL (SELECT {columns} FROM {table} AS {alias} "
            f"WHERE {condition} OFFSET 0) AS {alias}{on}"
        )
    return f"{join} JOIN {table} AS {alias} ON {condition}"


def _fetch(sql: str, params: list, *, times_as_text: bool = False) -> list[tuple]:
    """`times_as_text`: timestamps as the server writes them (ISO 8601, as SQLite gives
    them), for the caller to parse the few it needs."""
    if connection.vendor == "postgresql":
        with binary_cursor() as cursor:  # `%b` arrays: see bulk.sql_array
            if times_as_text:
                cursor.adapters.register_loader("timestamptz", TextLoader)
            cursor.execute(sql, params)
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def persons_with_active_subscriptions(company_id: int, column: str, values: list[str]) -> list:
    """The company's persons whose `column` is one of `values`, once per active subscription.

    Rows of (the value as sent, person id, mdn, external_person_id, then the subscription's
    id, list id, opt_in_date (text: see stored_time) and acquisition campaign id, all None
    for a person with no active subscription), subscriptions in id order. `person_key`
    values: 32 hex digits.
    """
    if not values:
        return []
    wanted, param = _wanted(sorted(values))  # sorted: the probes walk the index in order
    postgres = connection.vendor == "postgresql"
    match = "w.value::uuid" if column == "person_key" and postgres else "w.value"
    persons = _probe("CROSS", _PERSONS, "p", "p.id, p.mdn, p.external_person_id",
                     f"p.company_id = %s AND p.{column} = {match}")  # fmt: skip
    subscriptions = _probe(
        "LEFT", _SUBSCRIPTIONS, "s",
        "s.id, s.subscription_list_id, s.opt_in_date, s.acquisition_campaign_id",
        "s.person_id = p.id AND s.opt_out_date IS NULL",
    )  # fmt: skip
    sql = (
        "SELECT w.value, p.id, p.mdn, p.external_person_id, s.id, s.subscription_list_id, "
        f"s.opt_in_date, s.acquisition_campaign_id FROM {wanted} {persons} {subscriptions} "
        "ORDER BY s.id"
    )
    # The opt-in dates serve callback bodies only, when callbacks are registered: loading
    # 2,500 of them per chunk took a tenth of the import's client time, on the thread that
    # drives the database while it waits.
    return _fetch(sql, [param, company_id], times_as_text=True)


def stored_time(value: datetime | str | None) -> datetime | None:
    """A timestamp _fetch gave as text (SQLite, or `times_as_text`), as a datetime."""
    if not isinstance(value, str):
        return value
    if connection.vendor == "postgresql":
        return parse_datetime(value)  # "2026-12-02 10:46:51.123456+00"
    return connection.ops.convert_datetimefield_value(value, None, connection)


def subscriptions_end(ids: list[int], reason: str, now: datetime) -> int:
    """Opt the active subscriptions `ids` out at `now` for `reason`; how many were active
    (fewer than `ids`: another writer ended some since the chunk's lookup)."""
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        array, param = sql_array(ids, "bigint")
        with binary_cursor() as cursor:
            cursor.execute(
                f"UPDATE {_SUBSCRIPTIONS} AS s SET opt_out_date = %s, opt_out_reason = %s "
                f"FROM unnest({array}) AS v(id) WHERE s.id = v.id AND s.opt_out_date IS NULL",
                [now, reason, param],
            )
            return cursor.rowcount
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_SUBSCRIPTIONS} SET opt_out_date = %s, opt_out_reason = %s "
            "WHERE id IN (SELECT value FROM json_each(%s)) AND opt_out_date IS NULL",
            [stamp, reason, orjson.dumps(ids).decode()],
        )
        return cursor.rowcount


def numbers_silence(company_id: int, silenced: dict[str, set[int]], now: datetime) -> None:
    """Silence the numbers of `silenced` (mdn -> the list ids the opt-out ended): new ones
    are added, and a number silenced already gets the lists added to its ended ones."""
    if not silenced:
        return
    if connection.vendor == "postgresql":
        _silence_postgresql(company_id, silenced, now)
        return
    existing = _suppressed_numbers(company_id, list(silenced))
    new, changed = [], []
    for mdn, ended in silenced.items():
        if mdn not in existing:
            new.append((mdn, orjson.dumps(sorted(ended)).decode()))
            continue
        before = existing[mdn]
        merged = sorted(set(before) | ended)
        if merged != before:
            changed.append((orjson.dumps(merged).decode(), company_id, mdn))
    with connection.cursor() as cursor:
        if new:
            # One statement, its rows from one JSON parameter (see consent._insert).
            cursor.execute(
                f"INSERT INTO {_SUPPRESSED} (company_id, mdn, ended_list_ids, created_at) "
                "SELECT %s, json_extract(value, '$[0]'), json_extract(value, '$[1]'), %s "
                "FROM json_each(%s)",
                [company_id, connection.ops.adapt_datetimefield_value(now),
                 orjson.dumps(new).decode()],
            )  # fmt: skip
        if changed:
            cursor.executemany(
                f"UPDATE {_SUPPRESSED} SET ended_list_ids = %s WHERE company_id = %s AND mdn = %s",
                changed,
            )


def silenced_copy_data(company_id: int, silenced: dict[str, set[int]], now: datetime) -> bytes:
    """`silenced` (mdn -> the list ids the opt-out ended) as COPY text for
    numbers_silence_copy. No database access: a pipelined import builds it in its thread."""
    moment, dumps, text = now.isoformat(), orjson.dumps, copy_text
    return "".join(
        [
            f"{company_id}\t{text(mdn)}\t"
            f"{dumps(sorted(ended)).decode() if ended else '[]'}\t{moment}\n"
            for mdn, ended in silenced.items()
        ]
    ).encode()


def numbers_silence_copy(copy_data: bytes) -> None:
    """Silence numbers none of which is silenced yet, by COPY (PostgreSQL): a fifth of
    the server's work of numbers_silence's upsert goes (benchmarks/README.md). One of them
    silenced already fails it on the primary key (company, mdn) (IntegrityError): the
    caller, in a savepoint, then silences them by numbers_silence."""
    columns = "company_id, mdn, ended_list_ids, created_at"
    with (
        binary_cursor() as cursor,
        cursor.copy(f"COPY {_SUPPRESSED} ({columns}) FROM STDIN") as copy,
    ):
        copy.write(copy_data)


def _silence_postgresql(company_id: int, silenced: dict[str, set[int]], now: datetime) -> None:
    """One upsert: the unique index the insert probes anyway finds the numbers silenced
    already (a lookup before cost as much again), and a concurrent STOP of the same number
    is merged instead of failing the chunk."""
    mdns, mdn_param = sql_array(list(silenced), "text")
    ended, ended_param = sql_array(
        [orjson.dumps(sorted(lists)).decode() for lists in silenced.values()], "text"
    )
    with binary_cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_SUPPRESSED} AS x (company_id, mdn, ended_list_ids, created_at) "
            f"SELECT %s, v.mdn, v.ended::jsonb, %s FROM unnest({mdns}, {ended}) AS v(mdn, ended) "
            "ON CONFLICT (company_id, mdn) DO UPDATE SET ended_list_ids = ("
            "SELECT jsonb_agg(DISTINCT e ORDER BY e) "
            "FROM jsonb_array_elements(x.ended_list_ids || excluded.ended_list_ids) AS e) "
            "WHERE NOT x.ended_list_ids @> excluded.ended_list_ids",
            [company_id, now, mdn_param, ended_param],
        )


def _suppressed_numbers(company_id: int, mdns: list[str]) -> dict[str, list]:
    """mdn -> ended_list_ids of the company's silenced numbers among `mdns`."""
    if not mdns:
        return {}
    wanted, param = _wanted(sorted(mdns))
    suppressed = _probe("CROSS", _SUPPRESSED, "s", "s.mdn, s.ended_list_ids",
                        "s.company_id = %s AND s.mdn = w.value")  # fmt: skip
    sql = f"SELECT s.mdn, s.ended_list_ids FROM {wanted} {suppressed}"
    return {
        mdn: ended if isinstance(ended, list) else orjson.loads(ended)
        for mdn, ended in _fetch(sql, [param, company_id])
    }
