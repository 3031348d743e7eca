"""Callback delivery benchmark (SPEC section 9): one command, printing the figures and the budgets.

    .venv/bin/python benchmarks/callbacks.py [--events 20000] [--latency-events 2000]

It builds a scratch database (PostgreSQL when DATABASE_URL points there, else a SQLite
file), starts a fast local receiver process and ONE Celery worker node (`celery -A
vibesweb worker -Q callbacks`, --concurrency 2 by default, the machine's cores), then:

1. throughput: writes a backlog of N events (bulk emission) and starts the worker;
   deliveries/s = N / (last receipt - first receipt);
   the floor, in the same run and alternating with it (best of --rounds each): as many
   processes as the worker has, each a bare loop of `requests.Session().post()` (keep-alive)
   of the same bodies to the same receiver; budget: the worker >= 0.5 x the bare loop
   (machines change speed; this ratio does not);
2. latency: with the worker running, emits events one per transaction (person_add, the
   real path) at a steady rate; event-to-first-attempt = receipt time of attempt 1 at
   the receiver - the event's created_at.

Uses CELERY_BROKER_URL when it is Redis or RabbitMQ, else the embedded SQLite broker
that `bin/run` uses (vibesweb/broker.py, in the benchmark's own folder). On
PostgreSQL the scratch database is DATABASE_URL's name + `_bench_callbacks`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BUDGET_RATE, BUDGET_P50_MS, BUDGET_P99_MS = 1000, 100, 1000
BUDGET_RATIO = 0.5


# --- the receiver: a minimal asyncio HTTP/1.1 server in its own process ----------------


def receiver_main(conn) -> None:
    records: list[tuple[str, str, float]] = []
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                now = time.time()
                headers = {}
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0"))
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /stats"):
                    body = json.dumps(records).encode()
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                    )
                else:
                    event_id = headers.get(b"x-event-id", b"").decode()
                    attempt = headers.get(b"x-delivery-attempts", b"").decode()
                    records.append((event_id, attempt, now))
                    writer.write(ok)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        conn.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def receiver_records(port: int) -> list:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=30) as response:
        return json.loads(response.read())


# --- environment ----------------------------------------------------------------------


def scratch_env(workdir: Path) -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        parts = urlsplit(url)
        name = f"{parts.path.strip('/')}_bench_callbacks"  # beside the caller's own database
        with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = parts._replace(path=f"/{name}").geturl()
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vibesweb.settings",
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": (
            broker
            if broker.startswith(("redis", "amqp"))
            else f"sqlite:///{(workdir / 'broker.sqlite3').resolve()}"  # bin/run's default
        ),
        "VIBESWEB_VAR_DIR": str(workdir),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "callbacks-benchmark-secret-key"),
        "CALLBACK_ALLOW_PRIVATE_DESTINATIONS": "on",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env: dict, concurrency: int, log: Path) -> subprocess.Popen:
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
        str(concurrency),
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


def stop_worker(worker: subprocess.Popen) -> None:
    """TERM the worker node's process group, then KILL what is left after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def person_like_body(n: int):
    def build(api_version: int) -> dict:
        mdn = f"612555{n % 10000:04d}" if api_version == 1 else f"+1612555{n % 10000:04d}"
        return {
            "person": {
                "person_id": n,
                "person_key": f"00000000-0000-4000-8000-{n:012d}",
                "external_person_id": f"EXT{n}",
                "mobile_phone": {"mdn": mdn, "carrier_code": None},
                "timezone": None,
                "timezone_source": None,
                "custom_fields": {"first_name": "John", "points": n, "tier": "gold"},
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
                "url": f"/companies/BENCH/mobiledb/persons/{n}",
            }
        }

    return build


# --- phases ---------------------------------------------------------------------------


def bare_loop_main(port: int, first: int, count: int) -> None:
    """One process of the floor: a plain keep-alive requests loop, nothing else."""
    import requests

    session = requests.Session()
    url = f"http://127.0.0.1:{port}/hook"
    for n in range(first, first + count):
        body = json.dumps({"callback_type": "person_updated", **person_like_body(n)(1)})
        headers = {
            "Content-Type": "application/json",
            "X-Event-Id": f"bare-{n}",
            "X-Delivery-Attempts": "1",
        }
        session.post(url, data=body.encode(), headers=headers, timeout=10).raise_for_status()


def bare_loop_phase(args, port) -> float:
    """The floor: `concurrency` processes each posting its share in a bare loop."""
    before = len(receiver_records(port))
    share = args.events // args.concurrency
    processes = [
        multiprocessing.Process(target=bare_loop_main, args=(port, i * share, share))
        for i in range(args.concurrency)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    records = receiver_records(port)[before:]
    times = sorted(r[2] for r in records)
    return len(records) / (times[-1] - times[0])


def throughput_phase(args, env, port, workdir) -> float:
    from django.db import transaction

    from callbacks.services import callback_events_emit_bulk
    from vibesweb.tenancy.models import Company

    company = Company.objects.get(key="BENCH")
    with transaction.atomic():
        callback_events_emit_bulk(
            company=company,
            callback_type="person_updated",
            items=((None, person_like_body(n)) for n in range(args.events)),
        )
    before = len(receiver_records(port))
    worker = start_worker(env, args.concurrency, workdir / "worker.log")
    try:
        done = wait_until(lambda: len(receiver_records(port)) >= before + args.events, args.timeout)
        records = receiver_records(port)[before:]
    finally:
        stop_worker(worker)
    if not done:
        sys.exit(f"only {len(records)} of {args.events} deliveries arrived; see {workdir}")
    times = sorted(r[2] for r in records)
    return len(records) / (times[-1] - times[0])


def latency_phase(args, env, port, workdir) -> list[float]:
    from callbacks.models import CallbackEvent
    from mobiledb.persons.services import person_add
    from vibesweb.tenancy.models import Company

    company = Company.objects.get(key="BENCH")
    before = len(receiver_records(port))
    worker = start_worker(env, args.concurrency, workdir / "worker.log")
    try:
        time.sleep(5)  # let the worker start before the clock matters
        interval = 1.0 / args.rate
        started = time.monotonic()
        for n in range(args.latency_events):
            person_add(company=company, mdn=f"+1612{n:07d}")
            pause = started + (n + 1) * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        wait_until(lambda: len(receiver_records(port)) >= before + args.latency_events, 60)
        records = receiver_records(port)[before:]
    finally:
        stop_worker(worker)
    first = {event_id: t for event_id, attempt, t in records if attempt == "1"}
    created = dict(
        CallbackEvent.objects.filter(callback_type="person_added").values_list("id", "created_at")
    )
    return [(first[str(k)] - v.timestamp()) * 1000 for k, v in created.items() if str(k) in first]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--latency-events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in the latency run")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--rounds", type=int, default=2, help="worker and bare loop, alternating")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-callbacks-"))
    env = scratch_env(workdir)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=receiver_main, args=(child,), daemon=True)
    receiver.start()
    port = parent.recv()
    _register(port)
    database = env["DATABASE_URL"].split(":")[0]
    broker = env["CELERY_BROKER_URL"].split(":")[0]
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"callbacks benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load}\n"
        f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}\n"
        f"{database} database, {broker} broker, one worker node "
        f"(--concurrency {args.concurrency}), {os.cpu_count()} cores"
    )
    rates, floors = [], []
    for _ in range(args.rounds):
        floors.append(bare_loop_phase(args, port))
        rates.append(throughput_phase(args, env, port, workdir))
    rate, floor = max(rates), max(floors)
    ratio = rate / floor
    print(
        f"bare requests loop ({args.concurrency} processes, keep-alive, same receiver): "
        f"{floor:,.0f} deliveries/s (rounds: {', '.join(f'{f:,.0f}' for f in floors)})\n"
        f"worker node / bare loop = {ratio:.2f}  budget >= {BUDGET_RATIO}  "
        f"{'OK' if ratio >= BUDGET_RATIO else 'MISSED'}\n"
        f"delivery throughput: {rate:,.0f} deliveries/s per worker node "
        f"({args.events} events, best of {args.rounds}: {', '.join(f'{r:,.0f}' for r in rates)})"
        f"  budget >= {BUDGET_RATE}/s  {'OK' if rate >= BUDGET_RATE else 'MISSED'}"
    )
    latencies = latency_phase(args, env, port, workdir)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    ok = p50 < BUDGET_P50_MS and p99 < BUDGET_P99_MS
    print(
        f"event to first attempt: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"({len(latencies)} events at {args.rate:g}/s)  budget p50 < {BUDGET_P50_MS} ms, "
        f"p99 < {BUDGET_P99_MS} ms  {'OK' if ok else 'MISSED'}"
    )
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end {load}")
    receiver.terminate()


def _register(port: int) -> None:
    from callbacks.services.registrations import registration_create
    from vibesweb.tenancy.services import company_create

    company = company_create(key="BENCH", name="Benchmark")
    for callback_type in ("person_added", "person_updated"):
        registration_create(
            company=company, callback_type=callback_type, url=f"http://127.0.0.1:{port}/hook"
        )


if __name__ == "__main__":
    main()
