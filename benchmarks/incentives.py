"""Incentives: loading 1,000,000 codes, and issuances/s through gunicorn (SPEC section 9).

    .venv/bin/python benchmarks/incentives.py [--codes 1000000] [--seconds 15]
        [--connections 50] [--workers 4] [--port 0] [--fresh-database] [--skip-api]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python benchmarks/incentives.py

1. Loading: a file of N random 12-character codes (plus 1% repeated lines, reported as
   duplicates) is loaded into a pool with the code the admin upload and
   `add_incentive_codes` run. Floor, same run: a raw bulk insert of N other codes
   (PostgreSQL: `COPY` into a temporary copy of the table with its indexes and unique
   constraint; SQLite: `executemany` into the table itself), with no reading, checking
   or reporting. Budget: N = 1,000,000 in < 30 s.
2. Issuance (PostgreSQL is the budget's database): gunicorn serves the app, wrk drives
   `POST .../pools/:id/issuances` with `--connections` clients, each request a new
   issuee, then `/heartbeat` through the same gunicorn as the floor. Budget >= 500
   issuances/s; afterwards the run checks that no code was issued twice and that every
   issuance holds a code marked issued.

The database is the one in $DATABASE_URL (created when it does not exist, dropped and
created anew with `--fresh-database`; its company IBENCH is replaced), or a fresh SQLite
file in a temp folder. gunicorn listens on `--port` (0: any free port). Rate limits are
off (they would answer 429 past 100/s).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api import free_port, wait_for  # noqa: E402 (benchmarks/api.py's helpers)

ISSUE_SCRIPT = r"""
-- each wrk thread numbers its issuees apart: setup() sets the global `tid` in its state
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format('{"external_issuee_id": "bench-%d-%d", '
    .. '"referring_application": "benchmark"}', tid, counter)
  return wrk.format(nil, nil, nil, body)
end
"""


def run_wrk(url: str, seconds: int, connections: int, auth: str, script: str | None) -> dict:
    """wrk's figures; a 30 s request timeout (wrk's 2 s default counts every request of a
    loaded machine's queue as lost, and reports 0/s)."""
    command = ["wrk", "--latency", "--timeout", "30s", "-t", "2", "-c", str(connections),
               "-d", f"{seconds}s", "-H", f"Authorization: Basic {auth}", url]  # fmt: skip
    if script:
        command[1:1] = ["-s", script]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale if p99 else 0.0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
    }


def write_codes(path: Path, count: int, repeats: int) -> None:
    """`count` distinct random-looking 13-character codes, then the first `repeats` lines
    again (duplicates, reported and not added)."""
    alphabet = string.ascii_uppercase + string.digits
    rng = random.Random(7)
    head = []
    with open(path, "w") as out:
        for n in range(count):
            line = f"C{n:07d}{''.join(rng.choices(alphabet, k=5))}\n"  # unique: the counter
            if n < repeats:
                head.append(line)
            out.write(line)
        out.writelines(head)


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def bench_loading(args, env: dict) -> dict:
    import django

    os.environ.update(env)
    django.setup()
    from django.db import connection

    from campaigns.incentives.loading import incentive_codes_load
    from campaigns.incentives.pools import incentive_pool_create
    from campaigns.models import IncentiveCode
    from vibesweb.tenancy.models import Company
    from vibesweb.tenancy.services import api_user_create, company_create

    Company.objects.filter(key="IBENCH").delete()
    company = company_create(key="IBENCH", name="Incentive bench")
    api_user_create(company=company, username="ibench", password="ibench-password")
    pool = incentive_pool_create(company=company, name="Bench", low_threshold=10)
    floor_pool = incentive_pool_create(company=company, name="Floor")

    workdir = Path(args.workdir)
    codes_file = workdir / "codes.txt"
    repeats = args.codes // 100
    write_codes(codes_file, args.codes, repeats)
    floor_codes = [f"F{n:07d}ZZZZZ" for n in range(args.codes)]

    # Floor: the same number of rows straight into the same table.
    now = datetime.now(UTC)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A copy of the table with the same columns, indexes and unique constraint
            # (not its foreign keys), dropped afterwards: the floor leaves no million
            # dead rows behind in the real table.
            cursor.execute(
                "CREATE TEMPORARY TABLE incentive_floor "
                "(LIKE campaigns_incentivecode INCLUDING ALL)"
            )
            sql = (
                "COPY incentive_floor (company_id, pool_id, code, created_at, updated_at) "
                "FROM STDIN"
            )
            with cursor.cursor.copy(sql) as copy:
                for code in floor_codes:
                    copy.write_row((company.pk, floor_pool.pk, code, now, now))
        else:
            cursor.executemany(
                "INSERT INTO campaigns_incentivecode "
                "(company_id, pool_id, code, created_at, updated_at) VALUES (%s, %s, %s, %s, %s)",
                [(company.pk, floor_pool.pk, code, now.isoformat(), now.isoformat())
                 for code in floor_codes],
            )  # fmt: skip
    floor_seconds = time.perf_counter() - started

    refused = []
    started = time.perf_counter()
    with open(codes_file, "rb") as source:
        result = incentive_codes_load(pool=pool, source=source, on_refused=refused.append)
    load_seconds = time.perf_counter() - started
    assert result.added == args.codes, result
    assert result.refused == repeats, result
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE incentive_floor")
    else:
        IncentiveCode.objects.filter(pool=floor_pool).delete()
    connection.close()
    return {
        "pool_id": pool.pk,
        "codes": args.codes,
        "lines": result.lines,
        "refused": result.refused,
        "load_seconds": load_seconds,
        "floor_seconds": floor_seconds,
        "engine": "PostgreSQL" if connection.vendor == "postgresql" else "SQLite",
    }


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the PostgreSQL database of `url` when it does not exist (or anew if `fresh`)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.strip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def bench_issuance(args, env: dict, pool_id: int) -> dict:
    port = args.port or free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "vibesweb.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for(port)
        auth = base64.b64encode(b"ibench:ibench-password").decode()
        url = f"http://127.0.0.1:{port}/companies/IBENCH/incentives/pools/{pool_id}/issuances"
        script = Path(args.workdir) / "issue.lua"
        script.write_text(ISSUE_SCRIPT)
        run_wrk(url, 2, 4, auth, str(script))  # warm up workers and the auth cache
        issue = run_wrk(url, args.seconds, args.connections, auth, str(script))
        heartbeat = run_wrk(
            f"http://127.0.0.1:{port}/heartbeat", args.seconds, args.connections, auth, None
        )
    finally:
        gunicorn.terminate()
        gunicorn.wait()
    return {"issue": issue, "heartbeat": heartbeat}


def check_no_double_issue(pool_id: int) -> tuple[int, int, int]:
    from django.db import connection
    from django.db.models import Count

    from campaigns.models import IncentiveCode, IncentiveIssuance

    issuances = IncentiveIssuance.objects.filter(pool_id=pool_id)
    doubles = issuances.values("code_id").annotate(n=Count("id")).filter(n__gt=1).count()
    marked = IncentiveCode.objects.filter(pool_id=pool_id, issued_at__isnull=False).count()
    total = issuances.count()
    connection.close()
    return total, marked, doubles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: any free)")
    parser.add_argument("--fresh-database", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vibesweb-incentives-"))
    args.workdir = str(workdir)
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
    ensure_database(env["DATABASE_URL"], fresh=args.fresh_database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {load_average()}")
    loading = bench_loading(args, env)
    ratio = loading["floor_seconds"] / loading["load_seconds"]
    print(
        f"{loading['engine']}: loaded {loading['codes']:,} codes ({loading['lines']:,} lines, "
        f"{loading['refused']:,} refused) in {loading['load_seconds']:.1f} s "
        f"(budget 1,000,000 in < 30 s); raw bulk insert of as many rows "
        f"{loading['floor_seconds']:.1f} s: ratio {ratio:.2f} x of the floor"
    )
    if not args.skip_api:
        figures = bench_issuance(args, env, loading["pool_id"])
        issue, heartbeat = figures["issue"], figures["heartbeat"]
        total, marked, doubles = check_no_double_issue(loading["pool_id"])
        ratio = f"{issue['rps'] / heartbeat['rps']:.2f} x" if heartbeat["rps"] else "n/a"
        print(
            f"issuances: {issue['rps']:.0f}/s, p99 {issue['p99_ms']:.1f} ms, non-2xx "
            f"{issue['non2xx']} with {args.connections} clients, {args.workers} gunicorn workers "
            f"(budget >= 500/s); /heartbeat {heartbeat['rps']:.0f}/s (non-2xx "
            f"{heartbeat['non2xx']}): ratio {ratio}"
        )
        print(
            f"check: {total:,} issuances, {marked:,} codes marked issued, {doubles} codes "
            f"issued twice (budget 0)"
        )
        if doubles or total != marked:
            raise SystemExit("FAILED: a code was issued twice or an issuance lost its code")
    print(f"load average at the end {load_average()}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
