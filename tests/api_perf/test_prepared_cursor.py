"""`prepared_cursor()` hands out one kept psycopg cursor per connection
(vibesweb.postgresql): reused once closed, never shared by two open users, replaced with
its connection, and still usable after a failed statement."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from vibesweb.db import prepared_cursor

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's backend (SQLite has no server)"
)


def raw(cursor):
    return cursor.cursor  # the psycopg cursor inside Django's wrapper


def test_a_closed_cursor_is_handed_out_again_with_no_results_left(db):
    with prepared_cursor(connection) as first:
        first.execute("SELECT %s::int", [1])
        kept = raw(first)
    assert kept.pgresult is None  # closing dropped the results
    with prepared_cursor(connection) as second:
        assert raw(second) is kept
        second.execute("SELECT %s::int", [2])
        assert second.fetchone() == (2,)


def test_two_open_users_never_share_a_cursor(db):
    with prepared_cursor(connection) as outer:
        outer.execute("SELECT generate_series(1, %s::int)", [3])
        with prepared_cursor(connection) as inner:
            assert raw(inner) is not raw(outer)
            inner.execute("SELECT %s::int", [9])
            assert inner.fetchone() == (9,)
        assert outer.fetchall() == [(1,), (2,), (3,)]


def test_a_new_connection_gets_a_new_cursor(transactional_db):
    with prepared_cursor(connection) as first:
        kept = raw(first)
    connection.close()
    with prepared_cursor(connection) as second:
        assert raw(second) is not kept
        second.execute("SELECT %s::int", [1])
        assert second.fetchone() == (1,)


def test_a_failed_statement_leaves_the_cursor_usable(db):
    with prepared_cursor(connection) as cursor:
        cursor.execute("CREATE TEMPORARY TABLE kept_t (v int UNIQUE)")
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        prepared_cursor(connection) as cursor,
    ):
        cursor.execute("INSERT INTO kept_t VALUES (%s), (%s)", [1, 1])
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT count(*) FROM kept_t WHERE v = %s", [1])
        assert cursor.fetchone() == (0,)
