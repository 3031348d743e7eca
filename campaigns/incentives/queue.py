"""A unique pool's never-issued codes as a queue: taking one, and how many are left.

A code is taken by one conditional UPDATE of a never-issued row (`issued_at IS NULL` in
its WHERE), so two issuers never hold the same code whatever the backend: PostgreSQL
picks the row `FOR UPDATE SKIP LOCKED`, so fifty issuers take fifty different rows side
by side instead of queueing on the first one; SQLite's single writer makes the same
UPDATE atomic.

Each process remembers the last code it took from each pool (`_taken_up_to`, once the
taking transaction commits) and looks after it first. Without that, every claim read
again past every code issued before it: the planner walks the primary key (or the
unissued index, whose entries of issued codes stay until VACUUM) from the pool's first
code, so the millionth claim read a million rows. The position is only a hint, never a
rule: a code left behind it (its issuer rolled back, or another process is behind) is
found by the search from the pool's start, which runs whenever nothing is left after the
hint. On PostgreSQL the issuance is written by the statement that takes its code
(`code_take_next_recorded`), one round trip instead of two.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from .models import IncentiveCode, IncentivePool

# pool id -> id of the last code this process took from that pool's queue (a hint).
_taken_up_to: dict[int, int] = {}

# The position, as a value the planner cannot see. Given the number itself, PostgreSQL
# estimates `id > n` from the column's histogram and, when n falls below it or in its
# first or last bucket (0, or any position in a pool's first 1% of codes), reads the
# primary key's actual smallest or largest live entry while PLANNING the statement,
# stepping over every dead entry there: after a pool or company with a million codes
# was deleted (and until VACUUM), each plan of each claim read ~2,700 index pages (2-5 ms
# of the backend's CPU, two statements per issuance) for a statement that ran in 0.05
# ms. A scalar subquery is an index condition all the same, estimated without a read.
_AFTER = "(SELECT %s)"


def _table() -> str:
    return connection.ops.quote_name(IncentiveCode._meta.db_table)


def _next_sql(*, skip_locked: bool, unless: str = "") -> str:
    lock = ""
    if connection.vendor == "postgresql":
        lock = " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
    table = _table()
    return (
        f"UPDATE {table} SET issued_at = %s, updated_at = %s "
        f"WHERE id = (SELECT id FROM {table} WHERE pool_id = %s AND issued_at IS NULL "
        f"AND id > {_AFTER}{unless} ORDER BY id LIMIT 1{lock}) AND issued_at IS NULL "
        f"RETURNING id, code"
    )


def _statement(skip_locked: bool, params: list, record, held) -> tuple[str, list]:
    """The claim, with `record` over its row `taken` and, given `held`, taken only if
    `held` finds no row (see `code_take_next_recorded`)."""
    if record is None:
        return _next_sql(skip_locked=skip_locked), params
    if held is None:
        sql = f"WITH taken AS ({_next_sql(skip_locked=skip_locked)}) {record[0]}"
        return sql, params + list(record[1])
    claim = _next_sql(skip_locked=skip_locked, unless=" AND NOT EXISTS (SELECT 1 FROM held)")
    sql = (
        f"WITH held AS ({held[0]}), taken AS ({claim}), "
        f"recorded (code_id, code, value) AS ({record[0]}) "
        f"SELECT code_id, code, value, NULL::bigint FROM recorded "
        f"UNION ALL SELECT NULL, NULL, NULL, id FROM held"
    )
    return sql, list(held[1]) + params + list(record[1])


def _moment(now: datetime):
    return IncentiveCode._meta.get_field("issued_at").get_db_prep_value(now, connection)


def _taken(pool: IncentivePool, row, now: datetime) -> IncentiveCode:
    return IncentiveCode(
        id=row[0],
        code=row[1],
        company_id=pool.company_id,
        pool_id=pool.pk,
        issued_at=now,
        updated_at=now,
    )


def _take_next_row(pool: IncentivePool, now: datetime, record=None, held=None) -> tuple | None:
    moment = _moment(now)
    hint = _taken_up_to.get(pool.pk, 0)
    attempts = [(hint, True)] if hint else []  # after the hint, then from the first code
    attempts.append((0, True))
    if connection.vendor == "postgresql":
        # Every free code may be locked by issuers still in flight (one may roll back):
        # wait for them rather than answer "empty" while codes remain. Only an (almost)
        # empty pool gets here, so waiting serializes nobody else.
        attempts.append((0, False))
    with connection.cursor() as cursor:
        for after, skip_locked in attempts:
            params = [moment, moment, pool.pk, after]
            cursor.execute(*_statement(skip_locked, params, record, held))
            row = cursor.fetchone()
            if row is not None and row[0] is None:
                return row  # `held` found a row: nothing was taken
            if row is not None:
                transaction.on_commit(lambda code_id=row[0]: _remember(pool.pk, code_id))
                return row
    return None


def code_take_next(pool: IncentivePool, now: datetime) -> IncentiveCode | None:
    """Mark the next never-issued code of `pool` issued (load order, give or take the
    codes other issuers hold at this moment) and return it; None when none is left.
    Run it in the transaction that records the issuance: a rollback frees the code."""
    row = _take_next_row(pool, now)
    return _taken(pool, row, now) if row is not None else None


def code_take_next_recorded(
    pool: IncentivePool,
    now: datetime,
    record: tuple[str, list],
    held: tuple[str, list] | None = None,
) -> tuple[IncentiveCode | None, object] | None:
    """PostgreSQL: `code_take_next` and `record` in one statement (one round trip, not
    two). `record` is `(sql, params)` of a statement over the taken row `taken` (`id`,
    `code`) that returns the code's id, its text and one more value, e.g. `INSERT ...
    SELECT ... FROM taken RETURNING code_id, (SELECT code FROM taken), id`. Returns the
    code and that value; None when no code is left (and nothing was recorded).

    `held`, `(sql, params)` of a SELECT of one `id` (e.g. the issuee's issuance in this
    pool), is read by the same statement (same snapshot) and, when it finds a row, no
    code is taken and nothing recorded: the answer is then `(None, that id)`. It saves
    the issuer a round trip before the claim; a row `held` would find but that commits
    after the statement began is the caller's to catch (a unique constraint)."""
    row = _take_next_row(pool, now, record, held)
    if row is None:
        return None
    if row[0] is None:
        return None, row[3]
    return _taken(pool, row, now), row[2]


def _remember(pool_id: int, code_id: int) -> None:
    _taken_up_to[pool_id] = code_id


def code_take(pool: IncentivePool, code: str, now: datetime) -> IncentiveCode | None:
    """Mark `code` of `pool` issued if it never was, and return it; None otherwise."""
    moment = _moment(now)
    sql = (
        f"UPDATE {_table()} SET issued_at = %s, updated_at = %s "
        f"WHERE pool_id = %s AND code = %s AND issued_at IS NULL RETURNING id, code"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment, moment, pool.pk, code])
        row = cursor.fetchone()
    return _taken(pool, row, now) if row is not None else None


def unissued_at_most(pool: IncentivePool, limit: int) -> bool:
    """Whether at most `limit` never-issued codes are left in `pool`: reads at most
    `limit + 1` of them, after this process's hint first (the codes there are a part of
    those left, so finding more than `limit` there settles it), then from the start."""
    sql = (
        f"SELECT COUNT(*) FROM (SELECT id FROM {_table()} WHERE pool_id = %s "
        f"AND issued_at IS NULL AND id > {_AFTER} ORDER BY id LIMIT %s) AS left_codes"
    )
    hint = _taken_up_to.get(pool.pk, 0)
    with connection.cursor() as cursor:
        for after in (hint, 0) if hint else (0,):
            cursor.execute(sql, [pool.pk, after, limit + 1])
            if cursor.fetchone()[0] > limit:
                return False
    return True
