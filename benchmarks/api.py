"""GET and POST person through gunicorn with Basic auth on every request (SPEC section 9).

    .venv/bin/python benchmarks/api.py [--seconds 15] [--connections 16] [--workers 3]

Starts the app under gunicorn on a fresh database (SQLite in a temp folder, or
$DATABASE_URL), seeds a company, an API user and 10,000 persons, then drives it from a
second process with wrk (Debian package `wrk`; `apt-get install wrk`) and prints
requests/s and p99 latency against the budget: GET >= 1,000 req/s, POST >= 500 req/s,
p99 < 50 ms. Rate limits are switched off: they would (rightly) answer 429 past 100/s.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POST_SCRIPT = r"""
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local mdn = string.format("9%09d",
    (counter * 7919 + math.random(0, 999999999)) % 1000000000)
  local body = string.format('{"external_person_id": "B-%s", "mobile_phone": {"mdn": "%s"}, '
    .. '"custom_fields": {"first_name": "Bench", "points": %d}}', mdn, mdn, counter)
  return wrk.format(nil, nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(env: dict) -> None:
    code = """
from mobiledb.models import Person
from mobiledb.persons.custom_fields import custom_field_create
from vibesweb.tenancy.services import api_user_create, company_create
company = company_create(key="BENCH", name="Bench")
api_user_create(company=company, username="bench", password="bench-password")
custom_field_create(company=company, name="first_name", data_type="string")
custom_field_create(company=company, name="points", data_type="integer")
Person.objects.bulk_create(
    [Person(company=company, mdn=f"+1612{n:07d}", external_person_id=f"E{n}",
            custom_fields={"first_name": "Seed", "points": n}) for n in range(10000)],
    batch_size=2000,
)
"""
    subprocess.run([PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True)


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def run_wrk(url: str, seconds: int, connections: int, auth: str, script: str | None) -> dict:
    command = [
        "wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s",
        "-H", f"Authorization: Basic {auth}", url,
    ]  # fmt: skip
    if script:
        command[1:1] = ["-s", script]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def report(name: str, figures: dict, budget: str) -> None:
    print(
        f"{name}: {figures['rps']:8.0f} req/s, p99 {figures['p99_ms']:6.1f} ms, "
        f"non-2xx {figures['non2xx']}   ({budget})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="vibesweb-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vibesweb.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"),
        "VIBESWEB_VAR_DIR": str(workdir / "var"),
        "API_RATE_LIMITS_ENABLED": "off",
        "SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    }
    manage(env, "migrate", "-v0")
    seed(env)
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(PYTHON).with_name("gunicorn")), "vibesweb.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(port)
        auth = base64.b64encode(b"bench:bench-password").decode()
        base = f"http://127.0.0.1:{port}/companies/BENCH/mobiledb/persons"
        run_wrk(f"{base}/1", 2, 4, auth, None)  # warm up workers and the auth cache
        get = run_wrk(f"{base}/1234", args.seconds, args.connections, auth, None)
        script = workdir / "post.lua"
        script.write_text(POST_SCRIPT)
        post = run_wrk(base, args.seconds, args.connections, auth, str(script))
    finally:
        gunicorn.terminate()
        gunicorn.wait()
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(
        f"database: {engine}; gunicorn workers: {args.workers}; wrk connections: {args.connections}"
    )
    report("GET  person", get, "budget >= 1000 req/s, p99 < 50 ms")
    report("POST person", post, "budget >= 500 req/s, p99 < 50 ms")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
