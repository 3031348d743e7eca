"""Running a real Celery worker (or manage.py) in a child process for worker tests.

The child gets a database of its own (a SQLite file, or a fresh PostgreSQL database next
to the test one) and the real broker when the suite runs on Redis or RabbitMQ, else the
embedded default's SQLite broker in the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]


def scratch_database(tmp_path: Path, suffix: str) -> str:
    """A database of this test's own: a file for SQLite, a fresh one on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl()


def worker_env(tmp_path: Path, *, suffix: str, **settings: str) -> dict:
    """The environment of a child process: its own database, the broker, `settings`."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vibesweb.settings",
        "DATABASE_URL": scratch_database(tmp_path, suffix),
        "CELERY_BROKER_URL": (
            broker
            if broker.startswith(("redis", "amqp"))
            else f"sqlite:///{tmp_path / 'broker.sqlite3'}"
        ),
        "VIBESWEB_VAR_DIR": str(tmp_path),
        "SECRET_KEY": f"{suffix}-test-secret-key-0123456789",
        "LOG_LEVEL": "WARNING",
        # a child run from tmp_path still imports the project
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env
