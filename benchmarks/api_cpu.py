"""CPU per request of `/heartbeat`, GET and POST person, split client (Django) / server.

    .venv/bin/python benchmarks/api_cpu.py [--db sqlite,postgres] [--requests 1000]
                                           [--repeats 5] [--profile get|post]

One process calls the WSGI application directly (no gunicorn, no sockets for HTTP), on a
fresh database seeded as `benchmarks/api.py` seeds it, with Basic auth on every request.
For each request kind it reports, best of `--repeats` x `--requests`: the process's CPU
per request (`time.process_time`) and, on PostgreSQL, the CPU of the backend serving it
(read from `/proc/<pid>/stat`), and the statements per request. CPU seconds move far less
with the load of other processes than req/s do, so settings can be compared back to back
(`--env NAME=VALUE` sets one before Django starts). `--profile get` prints a cProfile of
the GET person instead.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vibesweb_api_cpu_bench"
)
AUTH = "Basic " + base64.b64encode(b"bench:bench-password").decode()


def ticks(pid: int) -> float:
    """Seconds on a CPU of process `pid` (`/proc/<pid>/schedstat`: nanoseconds)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def in_process_settings(workdir: Path) -> None:
    """The settings of a benchmark that calls the application in its own process: rate
    limits off (they would answer 429), one database connection for the whole run."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="vibesweb.settings",
        VIBESWEB_VAR_DIR=str(workdir / "var"),
        API_RATE_LIMITS_ENABLED="off",
        SECRET_KEY="benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    os.environ.setdefault("CONN_MAX_AGE", "3600")  # one backend for the whole run


def prepare(kind: str, workdir: Path, url: str | None) -> None:
    """A fresh database, migrated and seeded, in child processes (as api.py does); or,
    given `url`, that database as an earlier run left it."""
    import api  # benchmarks/api.py: its fresh database and seed

    api.PG_URL = PG_URL
    fresh = url is None
    url = url or api.fresh_database(kind, workdir)
    os.environ["DATABASE_URL"] = url
    in_process_settings(workdir)
    if not fresh:
        return
    env = dict(os.environ)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    api.seed(env)


class Requests:
    def __init__(self):
        from vibesweb.wsgi import application

        self.app = application
        self.counter = 0

    def call(self, method: str, path: str, body: bytes = b"") -> int:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8630",
            "HTTP_HOST": "127.0.0.1:8630",
            "HTTP_AUTHORIZATION": AUTH,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if body:
            environ["CONTENT_TYPE"] = "application/json"
            environ["CONTENT_LENGTH"] = str(len(body))
        status = []
        chunks = self.app(environ, lambda s, h, e=None: status.append(s))
        for _ in chunks:
            pass
        if hasattr(chunks, "close"):
            chunks.close()
        return int(status[0].split()[0])

    def heartbeat(self) -> int:
        return self.call("GET", "/heartbeat")

    def get(self) -> int:
        return self.call("GET", "/companies/BENCH/mobiledb/persons/1234")

    def post(self) -> int:
        self.counter += 1
        mdn = f"9{(self.counter * 7919 + os.getpid()) % 1_000_000_000:09d}"
        body = (
            f'{{"external_person_id": "B-{mdn}", "mobile_phone": {{"mdn": "{mdn}"}}, '
            f'"custom_fields": {{"first_name": "Bench", "points": {self.counter}}}}}'
        )
        return self.call("POST", "/companies/BENCH/mobiledb/persons", body.encode())


def backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def statements_of(run) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    return len(captured.captured_queries)


def measure(requests: Requests, name: str, count: int, repeats: int) -> dict:
    run = getattr(requests, name)
    expected = {"heartbeat": 200, "get": 200, "post": 201}[name]
    for _ in range(50):  # warm: the credential remembered, the schema cached
        assert run() == expected, name
    statements = statements_of(run)
    best_client = best_server = float("inf")
    for _ in range(repeats):
        pid = backend_pid()
        server_before = ticks(pid) if pid else 0.0
        started, started_sys = time.process_time(), os.times().system
        for _ in range(count):
            run()
        client = time.process_time() - started
        client_sys = os.times().system - started_sys
        server = (ticks(pid) - server_before) if pid else 0.0
        if backend_pid() != pid:
            raise SystemExit("the connection was replaced during the run")
        if client < best_client:
            best_client_sys = client_sys
        best_client = min(best_client, client)
        best_server = min(best_server, server)
    return {
        "client_us": 1e6 * best_client / count,
        "client_sys_us": 1e6 * best_client_sys / count,
        "server_us": 1e6 * best_server / count,
        "statements": statements,
    }


def profile(requests: Requests, name: str, count: int) -> None:
    run = getattr(requests, name)
    for _ in range(50):
        run()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(count):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
    stats.print_stats(45)
    stats.sort_stats("cumulative").print_stats(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgres", choices=("sqlite", "postgres"))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", choices=("heartbeat", "get", "post"))
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE")
    parser.add_argument(
        "--database-url", help="a database seeded by an earlier run, used as it is (faster A/B)"
    )
    args = parser.parse_args()
    for pair in args.env:
        name, _, value = pair.partition("=")
        os.environ[name] = value
    workdir = Path(tempfile.mkdtemp(prefix="vibesweb-api-cpu-"))
    try:
        prepare(args.db, workdir, args.database_url)
        import django

        django.setup()
        requests = Requests()
        if args.profile:
            profile(requests, args.profile, args.requests)
            return
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"[{args.db}] {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load {load}, "
              f"env {' '.join(args.env) or '-'}")  # fmt: skip
        for name in ("heartbeat", "get", "post"):
            f = measure(requests, name, args.requests, args.repeats)
            print(
                f"[{args.db}] {name:9} client {f['client_us']:6.0f} us (kernel "
                f"{f['client_sys_us']:4.0f})  server "
                f"{f['server_us']:6.0f} us  total {f['client_us'] + f['server_us']:6.0f} us  "
                f"statements {f['statements']}"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
