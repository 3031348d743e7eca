"""Fault test with a real Celery worker process: kill -9 mid-delivery, restart, and every
event still arrives at least once (SPEC section 6: a killed worker loses no event)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.worker_process import worker_env

from .receiver import Answer, Receiver

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 30

SEED = """
from django.db import transaction
from callbacks.services.registrations import registration_create
from mobiledb.persons.services import person_add
from vibesweb.tenancy.services import company_create
company = company_create(key="FAULT", name="Fault")
registration_create(company=company, callback_type="person_added", url={url!r})
with transaction.atomic():
    for n in range({events}):
        person_add(company=company, mdn=f"+1612555{{n:04d}}")
"""

STATES = """
import json
from callbacks.models import CallbackDelivery
print(json.dumps(sorted(CallbackDelivery.objects.values_list("state", flat=True))))
"""


def child_env(tmp_path: Path) -> dict:
    return worker_env(
        tmp_path,
        suffix="worker_test",
        CALLBACK_ALLOW_PRIVATE_DESTINATIONS="on",
        CALLBACK_SWEEP_SECONDS="1",
        CALLBACK_STALE_SECONDS="3",
        CALLBACK_BATCH_SIZE="5",
    )


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "vibesweb",
        "worker",
        "-B",
        "-Q",
        "callbacks,default",  # the sweep runs on "default" (settings)
        "--concurrency",
        "2",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill(process: subprocess.Popen) -> None:
    """kill -9 the worker and its pool children (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.worker
def test_worker_killed_mid_delivery_loses_no_event(tmp_path):
    receiver = Receiver().start()
    receiver.default = Answer(status=200, delay=0.1)  # slow enough to be killed mid-batch
    env = child_env(tmp_path)
    log = tmp_path / "worker.log"
    worker = None
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        if env["CELERY_BROKER_URL"].startswith(("redis", "amqp")):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "vibesweb",
                    "purge",
                    "-f",
                    "-Q",
                    "callbacks,default",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                timeout=60,
            )
        manage(env, "shell", "-c", SEED.format(url=receiver.url, events=EVENTS))
        worker = start_worker(env, log)
        assert wait_for(lambda: len(receiver.received) >= 4, seconds=60), log.read_text()[-3000:]
        kill(worker)
        seen_before_restart = len(receiver.received)
        assert seen_before_restart < EVENTS, "the worker finished before it could be killed"
        worker = start_worker(env, log)

        def all_arrived() -> bool:
            return len({r.headers["X-Event-Id"] for r in receiver.received}) == EVENTS

        assert wait_for(all_arrived, seconds=90), log.read_text()[-3000:]

        def states() -> list[str]:
            return json.loads(manage(env, "shell", "-c", STATES).strip().splitlines()[-1])

        assert wait_for(lambda: set(states()) == {"delivered"}, seconds=20), states()
    finally:
        if worker is not None:
            kill(worker)
        receiver.stop()
