"""Soak run of the embedded default: the real `bin/run` stack under steady work.

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--kill-after 10]

Starts `bin/run` (supervisord: gunicorn, Celery worker, Celery beat; SQLite database and
the SQLite broker) in a temporary folder, registers person and test-event callbacks to a
local HTTP receiver, then for `--minutes` drives API writes (person adds and updates),
`.persons` imports uploaded through the admin and callback test events. After
`--kill-after` minutes it `kill -9`s the Celery worker and times its restart. At the end
it waits for the work to drain and fails (exit 1) unless: every process is running and
none exited but the one it killed, every import finished with all its rows, every
callback event reached the receiver, and no request answered 5XX.

Prints the figures beside the SPEC section 9 budget (event to first delivery p50 < 100
ms, p99 < 1 s) and, as the floor measured in the same run, `/heartbeat` through the same
gunicorn; the date and load average.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
API_AUTH = "Basic " + base64.b64encode(b"demo-api:demo-api-password").decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Receiver:
    """A local callback destination: records when each webhook-id first arrived."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.requests += 1
                    receiver.first_seen.setdefault(event_id, time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Stack:
    """`bin/run` in a folder of its own, and a view of its supervisord and database."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "VIBESWEB_VAR_DIR": str(folder),
            "PORT": str(self.port),
            "SECRET_KEY": "soak-run-secret-key-0123456789abcdef",
        }
        for name in ("CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(name, None)
        self.log = open(folder / "bin-run.log", "wb")  # noqa: SIM115 (kept open while running)
        self.process = subprocess.Popen(
            [str(ROOT / "bin" / "run")], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_up(self, seconds: float = 300) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"bin/run exited early; see {self.folder / 'bin-run.log'}")
            try:
                if requests.get(f"{self.base}/admin/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise SystemExit("the web process did not come up")

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(ROOT / "supervisord.conf"), *args],
            env=self.env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return result.stdout

    def states(self) -> dict[str, tuple[str, int]]:
        found = {}
        for line in self.ctl("status").splitlines():
            match = re.match(r"vibesweb:(\w+)\s+(\w+)\s+(?:pid (\d+))?", line)
            if match:
                found[match[1]] = (match[2], int(match[3] or 0))
        return found

    def exits(self) -> list[str]:
        log = (self.folder / "supervisord.log").read_text()
        return [line for line in log.splitlines() if " exited: " in line]

    def query(self, sql: str) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.folder / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def stop(self) -> None:
        pid_file = self.folder / "supervisord.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGINT)
        try:
            self.process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


class Driver:
    """The work: API writes, admin imports, test events; counts what it asked for."""

    def __init__(self, stack: Stack, args: argparse.Namespace) -> None:
        self.stack, self.args = stack, args
        self.stop = threading.Event()
        self.api = requests.Session()
        self.api.headers.update(
            {"Authorization": API_AUTH, "X-API-Version": "2", "Content-Type": "application/json"}
        )
        self.latencies: list[float] = []
        self.floor: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.imports: list[int] = []  # rows per uploaded import
        self.test_events = 0
        self.lock = threading.Lock()

    def count(self, code: int, seconds: float | None = None) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1
            if seconds is not None:
                self.latencies.append(seconds)

    def call(self, method: str, path: str, body: dict | None = None) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.api.request(
                method, f"{self.stack.base}/companies/DEMO{path}", json=body, timeout=30
            )
        except requests.RequestException as exc:
            self.errors.append(f"{method} {path}: {exc}")
            self.count(0)
            return None
        self.count(response.status_code, time.perf_counter() - started)
        if response.status_code >= 500:
            self.errors.append(f"{method} {path}: {response.status_code}")
        return response

    def register(self, url: str) -> str:
        for callback_type in ("person_added", "person_updated"):
            self.call("POST", "/config/callbacks", {
                "callback_type": callback_type, "destination": {"url": url, "method": "POST"},
            })  # fmt: skip
        answer = self.call("POST", "/config/callbacks", {
            "callback_type": "subscription_added", "destination": {"url": url, "method": "POST"},
        })  # fmt: skip
        if answer is None or answer.status_code != 201:
            raise SystemExit(f"could not register a callback: {answer and answer.text}")
        return answer.json()["callback_id"]

    def api_writes(self) -> None:
        number = 0
        interval = 1 / self.args.writes_per_second
        while not self.stop.is_set():
            number += 1
            external_id = f"SOAK-API-{number}"
            self.call("POST", "/mobiledb/persons", {
                "mdn": f"+1763{number:07d}", "external_person_id": external_id,
                "custom_fields": {"first_name": "Soak", "loyalty_points": number},
            })  # fmt: skip
            if number % 3 == 0:
                self.call("PUT", "/mobiledb/persons", {
                    "external_person_id": external_id, "custom_fields": {"zip_code": "55401"},
                })  # fmt: skip
            self.stop.wait(interval)

    def test_event_loop(self, callback_id: str) -> None:
        while not self.stop.wait(self.args.test_event_seconds):
            answer = self.call("POST", "/config/callback_events/test", {"callback_id": callback_id})
            if answer is not None and answer.status_code == 201:  # queued, as the platform answers
                self.test_events += 1

    def heartbeat_loop(self) -> None:
        # The floor: the cheapest authenticated request through the same gunicorn.
        while not self.stop.wait(1.0):
            started = time.perf_counter()
            try:
                self.api.get(f"{self.stack.base}/companies/DEMO/heartbeat", timeout=30)
                self.floor.append(time.perf_counter() - started)
            except requests.RequestException as exc:
                self.errors.append(f"heartbeat: {exc}")

    def import_loop(self) -> None:
        admin = requests.Session()
        login = admin.get(f"{self.stack.base}/admin/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)[1]
        admin.post(
            f"{self.stack.base}/admin/login/",
            data={"username": "admin", "password": "admin", "csrfmiddlewaretoken": token,
                  "next": "/admin/"},
            headers={"Referer": f"{self.stack.base}/admin/login/"}, timeout=30,
        )  # fmt: skip
        add_url = f"{self.stack.base}/admin/mobiledb/personimport/add/"
        number = 0
        while not self.stop.is_set():
            number += 1
            rows = self.args.import_rows
            lines = ["external_person_id,mdn,first_name,tier"] + [
                f"SOAK-IMP-{number}-{row},+1952{number:03d}{row:04d},Imp{row},gold"
                for row in range(rows)
            ]
            form = admin.get(add_url, timeout=30).text
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
            company = re.search(r'<option value="(\d+)"[^>]*>[^<]*DEMO', form)
            answer = admin.post(
                add_url,
                data={"csrfmiddlewaretoken": token, "company": company[1] if company else "",
                      "_save": "Save"},
                files={"file": (f"soak-{number}.persons", "\n".join(lines) + "\n")},
                headers={"Referer": add_url}, timeout=60, allow_redirects=False,
            )  # fmt: skip
            self.count(answer.status_code)
            if answer.status_code == 302:
                self.imports.append(rows)
            else:
                self.errors.append(f"import upload answered {answer.status_code}")
            self.stop.wait(self.args.import_seconds)


def worker_replaced(stack: Stack, killed_pid: int) -> bool:
    state, pid = stack.states().get("worker", ("", 0))
    return state == "RUNNING" and pid != killed_pid


def stamp(value: str) -> float:
    """Seconds since the epoch of a datetime as Django stores it in SQLite (UTC)."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def wait_for(condition, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(2)
    return condition()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--kill-after", type=float, help="minutes; default a third of the run")
    parser.add_argument("--writes-per-second", type=float, default=10.0)
    parser.add_argument("--test-event-seconds", type=float, default=2.0)
    parser.add_argument("--import-seconds", type=float, default=60.0)
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--drain-minutes", type=float, default=8.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    kill_after = (args.kill_after if args.kill_after is not None else args.minutes / 3) * 60

    folder = Path(tempfile.mkdtemp(prefix="vibesweb-soak-"))
    print(f"soak: {args.minutes} min, folder {folder}", flush=True)
    started_at = datetime.now(UTC)
    stack = Stack(folder)
    failures: list[str] = []
    try:
        stack.wait_up()
        receiver = Receiver()
        driver = Driver(stack, args)
        test_callback = driver.register(receiver.url)
        threads = [
            threading.Thread(target=driver.api_writes, daemon=True),
            threading.Thread(target=driver.test_event_loop, args=(test_callback,), daemon=True),
            threading.Thread(target=driver.heartbeat_loop, daemon=True),
            threading.Thread(target=driver.import_loop, daemon=True),
        ]
        for thread in threads:
            thread.start()
        begin = time.time()
        killed_pid, restart_seconds, not_running = 0, None, []
        while time.time() - begin < args.minutes * 60:
            time.sleep(5)
            states = stack.states()
            down = [name for name, (state, _) in states.items() if state != "RUNNING"]
            if down and killed_pid == 0 or len(states) != 3:
                not_running.append(f"{time.time() - begin:.0f}s: {states}")
            if not killed_pid and time.time() - begin >= kill_after:
                killed_pid = states["worker"][1]
                killed_at = time.time()
                os.kill(killed_pid, signal.SIGKILL)
                print(f"soak: kill -9 worker {killed_pid}", flush=True)
                if wait_for(lambda pid=killed_pid: worker_replaced(stack, pid), 120):
                    restart_seconds = time.time() - killed_at
                    print(f"soak: worker back after {restart_seconds:.1f} s", flush=True)
                else:
                    failures.append("the killed worker did not come back within 120 s")
            elapsed = (time.time() - begin) / 60
            if int(elapsed * 12) % 12 == 0 or args.minutes <= 5:  # about once a minute
                print(f"soak: {elapsed:.0f} min, {sum(driver.statuses.values())} requests, "
                      f"{len(receiver.first_seen)} events received, "
                      f"{len(driver.imports)} imports", flush=True)  # fmt: skip
        driver.stop.set()
        for thread in threads:
            thread.join(60)
        drive_seconds = time.time() - begin
        print("soak: draining", flush=True)

        def imports_done() -> bool:
            open_ = stack.query(
                "SELECT COUNT(*) FROM mobiledb_personimport WHERE status IN ('pending','running')"
            )[0][0]
            return open_ == 0

        def deliveries_done() -> bool:
            pending = stack.query(
                "SELECT COUNT(*) FROM callbacks_callbackdelivery WHERE state != 'delivered'"
            )[0][0]
            batches = stack.query("SELECT COUNT(*) FROM callbacks_personeventbatch")[0][0]
            return pending == 0 and batches == 0

        drain_begin = time.time()
        wait_for(lambda: imports_done() and deliveries_done(), args.drain_minutes * 60)
        drain_seconds = time.time() - drain_begin

        # The verdict.
        states = stack.states()
        if any(state != "RUNNING" for state, _ in states.values()) or len(states) != 3:
            failures.append(f"not every process is running at the end: {states}")
        unexpected = [line for line in stack.exits() if f"({killed_pid})" not in line
                      and not ("worker" in line and "SIGKILL" in line)]  # fmt: skip
        if unexpected:
            failures.append(f"processes exited: {unexpected}")
        if not_running:
            failures.append(f"processes not running during the run: {not_running[:5]}")
        if not killed_pid:
            failures.append("the worker was never killed (run longer than --kill-after)")
        finished = stack.query(
            "SELECT status, rows, failed, file_name FROM mobiledb_personimport ORDER BY id"
        )
        if len(finished) != len(driver.imports):
            failures.append(f"{len(driver.imports)} uploads but {len(finished)} imports")
        for status, rows, failed, name in finished:
            if status != "finished" or rows != args.import_rows or failed:
                failures.append(f"import {name}: {status}, {rows} rows, {failed} failed")
        events = dict(
            stack.query(
                "SELECT CAST(id AS TEXT), created_at FROM callbacks_callbackevent"
            )  # fmt: skip
        )
        expected = {event_id.replace("-", "") for event_id in events}
        test_ids = {
            event_id.replace("-", "")
            for (event_id,) in stack.query(
                "SELECT CAST(id AS TEXT) FROM callbacks_callbackevent WHERE is_test"
            )
        }
        received = {event_id.replace("-", "") for event_id in receiver.first_seen}
        lost = expected - received
        if lost:
            failures.append(f"{len(lost)} of {len(expected)} callback events never arrived")
        if driver.errors:
            failures.append(f"{len(driver.errors)} request errors, e.g. {driver.errors[:3]}")
        if driver.test_events == 0 or not driver.imports:
            failures.append("the run made no test events or no imports")

        # The figures.
        created = {key.replace("-", ""): stamp(value) for key, value in events.items()}
        delays = {
            key.replace("-", ""): receiver.first_seen[key] - created[key.replace("-", "")]
            for key in receiver.first_seen
            if key.replace("-", "") in created
        }
        test_delays = [delay for key, delay in delays.items() if key in test_ids]
        delays = list(delays.values())
        imported_rows = stack.query("SELECT COALESCE(SUM(rows), 0) FROM mobiledb_personimport")
        persons = stack.query("SELECT COUNT(*) FROM mobiledb_person")[0][0]
        load = os.getloadavg()
        write_p99 = percentile(driver.latencies, 0.99) * 1000
        floor_p99 = percentile(driver.floor, 0.99) * 1000
        print()
        print(f"date {started_at:%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} {load[1]:.1f}")
        print(f"driven {drive_seconds / 60:.1f} min, drained in {drain_seconds:.0f} s")
        print(f"requests {sum(driver.statuses.values())} by status {driver.statuses}; "
              f"API p50 {percentile(driver.latencies, 0.5) * 1000:.1f} ms, p99 "
              f"{write_p99:.1f} ms; floor /heartbeat p99 {floor_p99:.1f} ms "
              f"(x{write_p99 / floor_p99:.1f})")  # fmt: skip
        print(f"imports {len(finished)} ({imported_rows[0][0]} rows), persons now {persons}")
        print(f"callback events {len(expected)} ({driver.test_events} test events), received "
              f"{len(received)}, requests to the receiver {receiver.requests} "
              f"(redelivered {receiver.requests - len(received)}), lost {len(lost)}")  # fmt: skip
        for name, values in (("every event", delays), ("test events", test_delays)):
            print(f"event to delivery, {name}: p50 {percentile(values, 0.5) * 1000:.0f} ms "
                  f"(budget < 100 ms), p99 {percentile(values, 0.99) * 1000:.0f} ms "
                  f"(budget < 1,000 ms), max {max(values or [0]):.1f} s")  # fmt: skip
        print(f"worker kill -9 after {kill_after / 60:.1f} min: back after "
              f"{restart_seconds if restart_seconds is None else round(restart_seconds, 1)} s; "
              f"process exits seen by supervisord: {len(stack.exits())}")  # fmt: skip
        summary = {"failures": failures, "folder": str(folder)}
        print(json.dumps(summary, indent=1))
    finally:
        stack.stop()
    print("SOAK PASSED" if not failures else "SOAK FAILED")
    if not args.keep and not failures:
        subprocess.run(["rm", "-rf", str(folder)], check=False)
    return 1 if failures else 0


if __name__ == "__main__":
    random.seed(14)
    sys.exit(main())
