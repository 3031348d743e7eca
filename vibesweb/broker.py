"""The embedded default's Celery broker: a kombu virtual transport on one SQLite file.

`CELERY_BROKER_URL=sqlite:///path/to/broker.sqlite3` (the default, under `var/`). kombu
does the exchanges, routing, QoS and polling; this module only stores messages, so that
the embedded default survives what kombu's own serverless transports do not:

- kombu's filesystem transport reads a message file another process is still writing
  (a `JSONDecodeError` that kills the worker: issue 14) and deletes a message when it is
  fetched, so a killed worker loses the tasks it held.
- kombu's SQLAlchemy transport on SQLite marks a fetched message invisible for ever:
  a killed worker loses its tasks there too, and delivered messages are never deleted.

Here a message is one row written in one SQLite transaction (no partial reads). Fetching
leases the row to the consuming process, the ack deletes it, a requeue releases it, and
any consumer releases the rows of leaseholders that are no longer running, so the
tasks a `kill -9`ed worker held are delivered again (the tasks are idempotent: SPEC 2).
Leases name a process id, so the file is for consumers on one machine, which is what
the embedded default is; Redis or RabbitMQ are for anything larger (README).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from queue import Empty
from urllib.parse import unquote, urlsplit

from kombu.transport import TRANSPORT_ALIASES, virtual
from kombu.utils.json import dumps, loads

SCHEME = "sqlite"
# Registered so `sqlite:///…` URLs resolve to this transport in every process that
# imports the Celery app (web, worker, scheduler, manage.py).
TRANSPORT_ALIASES.setdefault(SCHEME, "vibesweb.broker:Transport")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    leased_by INTEGER
);
CREATE INDEX IF NOT EXISTS message_waiting ON message (queue, id) WHERE leased_by IS NULL;
CREATE INDEX IF NOT EXISTS message_leased ON message (leased_by) WHERE leased_by IS NOT NULL;
"""
# How often a consumer looks for rows leased by processes that have gone (seconds).
RECLAIM_SECONDS = 2.0


def broker_path(url: str) -> Path:
    """The SQLite file of a `sqlite:///relative` or `sqlite:////absolute` broker URL."""
    path = unquote(urlsplit(url).path)
    if not path or path == "/":
        raise ValueError(f"{url!r} names no file: use sqlite:///path/to/broker.sqlite3")
    return Path(path[1:])  # SQLAlchemy's convention: three slashes relative, four absolute


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    return True


class Channel(virtual.Channel):
    """Stores a queue's messages as rows; leases them to this process until acked."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._db: sqlite3.Connection | None = None
        self._db_pid = 0
        self._lock = threading.Lock()
        self._leased: dict[str, int] = {}  # delivery tag -> row id
        self._reclaimed_at = 0.0

    @property
    def db(self) -> sqlite3.Connection:
        # A forked child (gunicorn, the pool) opens its own: SQLite handles never cross
        # a fork.
        if self._db is None or self._db_pid != os.getpid():
            path = broker_path(self.connection.client.hostname)
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._db, self._db_pid = db, os.getpid()
        return self._db

    def _put(self, queue: str, message: dict, **kwargs) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO message (queue, payload) VALUES (?, ?)", (queue, dumps(message))
            )

    def _get(self, queue: str, timeout: float | None = None) -> dict:
        with self._lock:
            self._reclaim_orphans()
            db = self.db
            # IMMEDIATE takes the write lock first, so two consumers never lease one row.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT id, payload FROM message WHERE queue = ? AND leased_by IS NULL "
                    "ORDER BY id LIMIT 1",
                    (queue,),
                ).fetchone()
                if row is None:
                    raise Empty()
                db.execute("UPDATE message SET leased_by = ? WHERE id = ?", (os.getpid(), row[0]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        payload = loads(row[1])
        self._leased[payload["properties"]["delivery_tag"]] = row[0]
        return payload

    def _reclaim_orphans(self) -> None:
        """Release the rows of leaseholders that are no longer running."""
        now = time.monotonic()
        if now - self._reclaimed_at < RECLAIM_SECONDS:
            return
        self._reclaimed_at = now
        holders = [pid for (pid,) in self.db.execute("SELECT DISTINCT leased_by FROM message")]
        for pid in holders:
            if pid is not None and pid != os.getpid() and not _process_running(pid):
                self.db.execute("UPDATE message SET leased_by = NULL WHERE leased_by = ?", (pid,))

    def _forget(self, delivery_tag: str) -> None:
        row_id = self._leased.pop(delivery_tag, None)
        if row_id is not None:
            with self._lock:
                self.db.execute("DELETE FROM message WHERE id = ?", (row_id,))

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        # A requeue goes through _restore (the row is released); otherwise it is dropped.
        super().basic_reject(delivery_tag, requeue=requeue)
        self._forget(delivery_tag)

    def _restore(self, message) -> None:
        row_id = self._leased.pop(message.delivery_tag, None)
        if row_id is None:
            super()._restore(message)
            return
        with self._lock:
            self.db.execute("UPDATE message SET leased_by = NULL WHERE id = ?", (row_id,))

    def _size(self, queue: str) -> int:
        with self._lock:
            (count,) = self.db.execute(
                "SELECT COUNT(*) FROM message WHERE queue = ? AND leased_by IS NULL", (queue,)
            ).fetchone()
        return count

    def _purge(self, queue: str) -> int:
        with self._lock:
            cursor = self.db.execute(
                "DELETE FROM message WHERE queue = ? AND leased_by IS NULL", (queue,)
            )
        return cursor.rowcount

    def _delete(self, queue: str, *args, **kwargs) -> None:
        super()._delete(queue, *args, **kwargs)
        with self._lock:
            self.db.execute("DELETE FROM message WHERE queue = ?", (queue,))

    def close(self) -> None:
        super().close()  # requeues what this channel still holds, through _restore
        if self._db is not None and self._db_pid == os.getpid():
            self._db.close()
        self._db = None


class Transport(virtual.Transport):
    """kombu transport `sqlite://` (see the module docstring)."""

    Channel = Channel
    can_parse_url = True  # keep the whole URL: it names the file
    default_port = 0
    driver_type = "sql"
    driver_name = "sqlite"
    # Every 0.1 s rather than kombu's 1 s: a callback waits for the next poll.
    polling_interval = 0.1
    connection_errors = virtual.Transport.connection_errors + (sqlite3.OperationalError,)
    channel_errors = virtual.Transport.channel_errors + (sqlite3.OperationalError,)

    def driver_version(self) -> str:
        return sqlite3.sqlite_version
