"""bin/run's supervisord (supervisord.conf): a killed worker is started again, and the web
server and the scheduler carry on as if nothing happened (issue 14)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.worker_process import worker_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def states(env: dict) -> dict[str, tuple[str, int]]:
    status = subprocess.run(
        [BIN / "supervisorctl", "-c", ROOT / "supervisord.conf", "status"],
        env=env, capture_output=True, text=True, timeout=30,
    ).stdout  # fmt: skip
    found = {}
    for line in status.splitlines():
        match = re.match(r"vibesweb:(\w+)\s+(\w+)\s+(?:pid (\d+))?", line)
        if match:
            found[match[1]] = (match[2], int(match[3] or 0))
    return found


def web_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5) as page:
            return page.status == 200
    except OSError:
        return False


def wait_for(condition, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.mark.worker
def test_a_killed_worker_is_restarted_and_web_stays_up(tmp_path):
    port = free_port()
    env = worker_env(tmp_path, suffix="supervisor", PORT=str(port), LOG_LEVEL="WARNING")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, check=True, timeout=180,
    )  # fmt: skip
    log = (tmp_path / "supervisord.out").open("wb")
    supervisord = subprocess.Popen(
        [BIN / "supervisord", "--nodaemon", "-c", ROOT / "supervisord.conf"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        running = lambda: [s for s, _ in states(env).values()] == ["RUNNING"] * 3  # noqa: E731
        assert wait_for(running, seconds=120), states(env)
        assert wait_for(lambda: web_answers(port), seconds=60)
        before = states(env)

        os.kill(before["worker"][1], signal.SIGKILL)
        answered = []
        restarted = lambda: (  # noqa: E731
            answered.append(web_answers(port)) is None
            and states(env)["worker"][0] == "RUNNING"
            and states(env)["worker"][1] != before["worker"][1]
        )
        assert wait_for(restarted, seconds=60), (tmp_path / "supervisord.log").read_text()

        after = states(env)
        assert after["web"] == before["web"]  # same process, never stopped
        assert after["scheduler"] == before["scheduler"]
        assert answered and all(answered)
        assert web_answers(port)
        assert "exited: worker (terminated by SIGKILL" in (tmp_path / "supervisord.log").read_text()
    finally:
        supervisord.send_signal(signal.SIGTERM)
        try:
            supervisord.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(supervisord.pid, signal.SIGKILL)
        log.close()
    assert supervisord.returncode == 0
    assert not states(env)  # everything stopped with it
