"""`bin/run` from the top: quiet start-up (the SECRET_KEY warning once, no whitenoise
warning about a missing static folder) and a web page served (issue 14)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.worker_process import worker_env

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5) as page:
            return page.status == 200
    except OSError:
        return False


@pytest.mark.worker
def test_bin_run_warns_about_the_secret_key_once_and_not_about_static_files(tmp_path):
    port = free_port()
    env = worker_env(tmp_path, suffix="bin_run", PORT=str(port), LOG_LEVEL="INFO")
    del env["SECRET_KEY"]  # the development default, as a fresh clone has
    env.pop("DJANGO_SETTINGS_MODULE")
    output = tmp_path / "bin-run.out"
    with output.open("wb") as log:
        run = subprocess.Popen(
            [ROOT / "bin" / "run"], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and run.poll() is None and not web_answers(port):
                time.sleep(1)
            assert web_answers(port), output.read_text()[-3000:]
            time.sleep(5)  # worker and scheduler have started too
        finally:
            pid_file = tmp_path / "supervisord.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGINT)
            try:
                run.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
    text = output.read_text()
    assert "celery@" in text and "beat: Starting" in text  # every process did start
    assert text.count("SECRET_KEY is the development default") == 1, text
    assert "No directory at" not in text
    assert "Traceback" not in text
