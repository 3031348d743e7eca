"""A real import worker killed with -9 mid-import: nobody re-sends its task, yet the
import finishes by itself (issue 16, Medium 3): the scheduler's sweep finds its expired
lease and enqueues it again, and it resumes after its last committed chunk."""

from __future__ import annotations

import sqlite3
import subprocess
import time

import psycopg
import pytest

from tests.worker_process import (
    child_state,
    kill,
    manage,
    purge_queues,
    start_worker,
    wait_for,
    worker_env,
)

ROWS = 40_000

SEED = """
from mobiledb.imports.services import person_import_create, person_import_enqueue
from vibesweb.tenancy.services import company_create
company_create(key="KILL", name="Kill")
with open({path!r}, "w") as out:
    out.write("external_person_id,mdn\\n")
    for n in range({rows}):
        out.write(f"E{{n}},+1612{{n:07d}}\\n")
person_import_enqueue(person_import_create(company_key="KILL", file_path={path!r}))
"""

STATE = """
import json
from mobiledb.imports.models import PersonImport
pi = PersonImport.objects.get()
print(json.dumps([pi.status, pi.records_done, pi.created, pi.failed]))
"""


def progress(database_url: str) -> tuple | None:
    """(status, records_done) read straight from the child's database: polling through
    manage.py takes seconds, and PostgreSQL imports the whole file in a few."""
    query = "SELECT status, records_done FROM mobiledb_personimport"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(query).fetchone()
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchone()


def start_import_worker(env: dict, log) -> subprocess.Popen:
    return start_worker(env, log, queues="imports", beat=True)


@pytest.mark.worker
def test_a_killed_import_worker_resumes_by_itself(tmp_path):
    env = worker_env(
        tmp_path,
        suffix="import_kill",
        PERSON_IMPORT_LEASE_SECONDS="3",
        PERSON_IMPORT_SWEEP_SECONDS="1",
    )
    log = tmp_path / "worker.log"
    worker = None

    def state() -> list:
        return child_state(env, STATE)

    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        purge_queues(env, "imports")
        manage(env, "shell", "-c", SEED.format(path=str(tmp_path / "big.persons"), rows=ROWS))
        worker = start_import_worker(env, log)
        assert wait_for(lambda: (progress(env["DATABASE_URL"]) or ("", 0))[1] > 0, seconds=120), (
            log.read_text()[-3000:]
        )
        kill(worker)  # mid-import: its task message is gone or parked with the broker
        status, done, _, _ = state()
        assert status == "running" and 0 < done < ROWS, "finished before it could be killed"
        # Drop whatever the broker kept, so only the sweep can bring the import back.
        purge_queues(env, "imports")
        time.sleep(1)
        worker = start_import_worker(env, log)  # a fresh worker; nobody re-sends the task
        assert wait_for(lambda: state()[0] == "finished", seconds=240), (
            state(),
            log.read_text()[-3000:],
        )
        assert state()[1:] == [ROWS, ROWS, 0]
    finally:
        if worker is not None:
            kill(worker)
