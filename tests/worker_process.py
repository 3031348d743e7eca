"""Running a real Celery worker (or manage.py) in a child process for worker tests.

The child gets a database of its own (a SQLite file, or a fresh PostgreSQL database next
to the test one) and the real broker when the suite runs on Redis or RabbitMQ, else the
embedded default's SQLite broker in the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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
    # pytest-xdist workers share the server: the worker's name keeps their databases apart
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = "_".join(filter(None, (parts.path.lstrip("/"), worker, suffix)))
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


def manage(env: dict, *args: str) -> str:
    """Run manage.py in the child's environment; its stdout (a failure shows stderr)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=env["VIBESWEB_VAR_DIR"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def purge_queues(env: dict, queues: str) -> None:
    """Drop what a shared broker (Redis, RabbitMQ) kept of earlier runs on these queues;
    the embedded broker is a file of this test's own."""
    if env["CELERY_BROKER_URL"].startswith(("redis", "amqp")):
        subprocess.run(
            [sys.executable, "-m", "celery", "-A", "vibesweb", "purge", "-f", "-Q", queues],
            cwd=env["VIBESWEB_VAR_DIR"], env=env, capture_output=True, timeout=60,
        )  # fmt: skip


def start_worker(
    env: dict, log: Path, *, queues: str, concurrency: int = 1, beat: bool = False
) -> subprocess.Popen:
    """A real Celery worker in its own process group (so `kill` takes its pool too)."""
    command = [sys.executable, "-m", "celery", "-A", "vibesweb", "worker", "-Q", queues,
               "--concurrency", str(concurrency), "--loglevel", "WARNING"]  # fmt: skip
    if beat:
        command.append("-B")
    return subprocess.Popen(
        command, cwd=env["VIBESWEB_VAR_DIR"], env=env, stdout=log.open("ab"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def kill(process: subprocess.Popen) -> None:
    """kill -9 the worker and its pool children (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], *, seconds: float, every: float = 0.1) -> bool:
    """Whether `condition` came true within `seconds` (checked every `every` seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def child_state(env: dict, script: str) -> list:
    """The JSON list a `manage.py shell -c` script prints last."""
    return json.loads(manage(env, "shell", "-c", script).strip().splitlines()[-1])
