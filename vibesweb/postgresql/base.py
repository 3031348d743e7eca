"""Django's PostgreSQL backend with a health check that needs no round trip, and prepared
statements for the API's hot path.

Per request, the stock backend's `CONN_HEALTH_CHECKS` sends `SELECT 1` before the first
statement: on a GET person that was a third of the round trips, and on this machine a round
trip costs the client far more CPU (wake-up, cold caches) than the statement costs the
server. A connection that the server ended (restart, `pg_terminate_backend`, an idle
timeout) has been told so: PostgreSQL sends a FATAL error and closes the socket, so the
socket turns readable. An idle healthy connection has nothing to read. So the check polls
the socket without waiting and only when something arrived reads it (and, if the
connection is still fine, falls back to `SELECT 1`).

`prepared_cursor()` binds parameters on the server and prepares each statement once per
connection: the server then skips parsing and planning (on a GET person, ~40% of its
CPU). The ORM keeps client-side binding (some of its SQL cannot be prepared, #20516);
only the hot path's fixed raw statements use this cursor.
"""

from __future__ import annotations

import functools
import select

from django.db.backends.postgresql import base
from django.utils.asyncio import async_unsafe
from psycopg import _cmodule
from psycopg.adapt import Loader


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Django turns psycopg's automatic preparing off (connection poolers in
        # transaction mode); ClientCursor, the ORM's cursor, never prepares, so this
        # only affects prepared_cursor(). 0: prepare at the first execution. OPTIONS
        # `prepare_threshold` (None: never, e.g. behind PgBouncer < 1.21) overrides it.
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            connection.prepare_threshold = 0
        loader = _compiled_timestamptz_loader(self.timezone)
        if loader is not None:
            connection.adapters.register_loader("timestamptz", loader)
        return connection

    def close_if_health_check_failed(self):
        """Django's check, with the socket poll first (see the module docstring)."""
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self.pool or not self._socket_quiet():
            super().close_if_health_check_failed()
        self.health_check_done = True

    def _socket_quiet(self) -> bool:
        """True when the idle connection received nothing since its last statement."""
        pgconn = self.connection.pgconn
        if pgconn.status != 0:  # CONNECTION_OK
            return False
        poller = select.poll()  # not select(): sockets past fd 1024 are fine
        try:
            poller.register(pgconn.socket, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False

    @async_unsafe
    def prepared_cursor(self):
        """A cursor like `cursor()` whose statements are prepared on the server.

        One psycopg cursor is kept per connection and handed out again once the last
        user closed it (a cursor still open, e.g. nested use, gets a new one): setting a
        cursor up (its adapters, transformer, loaders) cost about a third of running a
        hot-path statement on the client."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        kept = self._kept_cursor
        with self.wrap_database_errors:
            if kept is None or kept.in_use or kept.connection is not self.connection:
                cursor = _KeptCursor(self.connection)
                if kept is None or not kept.in_use or kept.connection is not self.connection:
                    self._kept_cursor = cursor
            else:
                cursor = kept
            cursor.in_use = True
            return self._prepare_cursor(cursor)

    _kept_cursor = None


class _KeptCursor(base.ServerBindingCursor):
    """A server-binding cursor that `close()` (what Django's wrapper calls when a `with`
    block ends) only empties, so that `prepared_cursor()` can hand it out again; it
    closes with its connection."""

    in_use = False

    def close(self) -> None:
        self._reset()  # drop the results, as closing does
        self.in_use = False


@functools.cache
def _compiled_timestamptz_loader(timezone) -> type[Loader] | None:
    """Django's timestamptz loader (its time zone set on the value), parsing with
    psycopg's compiled loader. Django's is a Python subclass of psycopg's pure-Python
    loader, which parses each value with a regular expression in Python: on a GET
    person, the few timestamps of the row cost more CPU than the rest of the row. The
    compiled class cannot be subclassed, so this one holds an instance of it. None
    without psycopg's C module (Django's loader stays)."""
    compiled = getattr(_cmodule._psycopg, "TimestamptzLoader", None) if _cmodule._psycopg else None
    if compiled is None:
        return None

    class TimestamptzLoader(Loader):
        # Django's create_cursor() compares this with the connection's time zone.
        timezone = None

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = compiled(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=self.timezone)

    TimestamptzLoader.timezone = timezone
    return TimestamptzLoader
