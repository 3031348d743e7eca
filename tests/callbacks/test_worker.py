"""Fault test with a real Celery worker process: kill -9 mid-delivery, restart, and every
event still arrives at least once (SPEC section 6: a killed worker loses no event)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.worker_process import kill, manage, purge_queues, start_worker, wait_for, worker_env

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


def start_callbacks_worker(env: dict, log: Path) -> subprocess.Popen:
    # the sweep runs on "default" (settings)
    return start_worker(env, log, queues="callbacks,default", concurrency=2, beat=True)


@pytest.mark.worker
def test_worker_killed_mid_delivery_loses_no_event(tmp_path):
    receiver = Receiver().start()
    receiver.default = Answer(status=200, delay=0.1)  # slow enough to be killed mid-batch
    env = child_env(tmp_path)
    log = tmp_path / "worker.log"
    worker = None
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        purge_queues(env, "callbacks,default")
        manage(env, "shell", "-c", SEED.format(url=receiver.url, events=EVENTS))
        worker = start_callbacks_worker(env, log)
        assert wait_for(lambda: len(receiver.received) >= 4, seconds=60), log.read_text()[-3000:]
        kill(worker)
        seen_before_restart = len(receiver.received)
        assert seen_before_restart < EVENTS, "the worker finished before it could be killed"
        worker = start_callbacks_worker(env, log)

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
