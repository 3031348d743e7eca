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

from ..bulk import binary_cursor, copy_text, sql_array
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


def _fetch(sql: str, params: list) -> list[tuple]:
    if connection.vendor == "postgresql":
        with binary_cursor() as cursor:  # `%b` arrays: see bulk.sql_array
            cursor.execute(sql, params)
            return cursor.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def persons_with_active_subscriptions(company_id: int, column: str, values: list[str]) -> list:
    """The company's persons whose `column` is one of `values`, once per active subscription.

    Rows of (the value as sent, person id, mdn, external_person_id, then the subscription's
    id, list id, opt_in_date and acquisition campaign id, all None for a person with no
    active subscription), subscriptions in id order. `person_key` values: 32 hex digits.
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
    return _fetch(sql, [param, company_id])


def suppressed_numbers(company_id: int, mdns: list[str]) -> dict[str, tuple[int, list]]:
    """mdn -> (id, ended_list_ids) of the company's silenced numbers among `mdns`."""
    if not mdns:
        return {}
    wanted, param = _wanted(sorted(mdns))
    suppressed = _probe("CROSS", _SUPPRESSED, "s", "s.mdn, s.id, s.ended_list_ids",
                        "s.company_id = %s AND s.mdn = w.value")  # fmt: skip
    sql = f"SELECT s.mdn, s.id, s.ended_list_ids FROM {wanted} {suppressed}"
    return {
        mdn: (pk, ended if isinstance(ended, list) else orjson.loads(ended))
        for mdn, pk, ended in _fetch(sql, [param, company_id])
    }


def subscriptions_end(ids: list[int], reason: str, now: datetime) -> None:
    """Opt the subscriptions `ids` out at `now` for `reason`."""
    if not ids:
        return
    if connection.vendor == "postgresql":
        array, param = sql_array(ids, "bigint")
        with binary_cursor() as cursor:
            cursor.execute(
                f"UPDATE {_SUBSCRIPTIONS} AS s SET opt_out_date = %s, opt_out_reason = %s "
                f"FROM unnest({array}) AS v(id) WHERE s.id = v.id",
                [now, reason, param],
            )
        return
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_SUBSCRIPTIONS} SET opt_out_date = %s, opt_out_reason = %s "
            "WHERE id IN (SELECT value FROM json_each(%s))",
            [stamp, reason, orjson.dumps(ids).decode()],
        )


def numbers_suppress(company_id: int, new: list[tuple[str, list]], changed: list[tuple[int, list]],
                     now: datetime) -> None:  # fmt: skip
    """Silence the `new` numbers, as (mdn, ended list ids), and set `changed` silenced
    numbers' ended list ids, as (id, ended list ids)."""
    if connection.vendor == "postgresql":
        if new:
            stamp = now.isoformat()
            data = "".join(
                f"{company_id}\t{copy_text(mdn)}\t{orjson.dumps(ended).decode()}\t{stamp}\n"
                for mdn, ended in new
            )
            copy_sql = (
                f"COPY {_SUPPRESSED} (company_id, mdn, ended_list_ids, created_at) FROM STDIN"
            )
            with binary_cursor() as cursor, cursor.copy(copy_sql) as copy:
                copy.write(data.encode())
    elif new:
        # One statement, its rows from one JSON parameter (see consent._insert).
        stamp = connection.ops.adapt_datetimefield_value(now)
        payload = orjson.dumps([(mdn, orjson.dumps(ended).decode()) for mdn, ended in new])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_SUPPRESSED} (company_id, mdn, ended_list_ids, created_at) "
                "SELECT %s, json_extract(value, '$[0]'), json_extract(value, '$[1]'), %s "
                "FROM json_each(%s)",
                [company_id, stamp, payload.decode()],
            )
    if changed:
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {_SUPPRESSED} SET ended_list_ids = %s{cast} WHERE id = %s",
                [(orjson.dumps(ended).decode(), pk) for pk, ended in changed],
            )
