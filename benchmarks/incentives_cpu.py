"""One issuance end to end, in process: CPU split client (Django) / server, statements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME \
        .venv/bin/python benchmarks/incentives_cpu.py [--requests 500] [--repeats 3]
        [--statements] [--profile]

Runs on the database `benchmarks/incentives.py` loaded (its company IBENCH and pool
"Bench"), calling the WSGI application directly (no gunicorn, no sockets for HTTP) with
Basic auth on every request, each request a new issuee, as the benchmark's wrk does.
Reports, best of `--repeats` x `--requests`: the process's CPU per issuance
(`time.process_time`), the CPU of the PostgreSQL backend serving it (from
`/proc/<pid>/schedstat`), the wall time per issuance and the statements per issuance.
`--statements` lists one issuance's statements with their wall time (mean over the run),
`--profile` prints a cProfile (CPU clock) of the issuances instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_cpu import Requests, backend_pid, in_process_settings, ticks  # noqa: E402 (benchmarks/api_cpu.py)

AUTH = "Basic aWJlbmNoOmliZW5jaC1wYXNzd29yZA=="  # ibench:ibench-password


class Issuances(Requests):
    def __init__(self, pool_id: int):
        super().__init__()
        self.path = f"/companies/IBENCH/incentives/pools/{pool_id}/issuances"
        self.run_id = f"{os.getpid()}-{int(time.time())}"

    def call(self, method: str, path: str, body: bytes = b"") -> int:
        import api_cpu

        api_cpu.AUTH = AUTH
        return super().call(method, path, body)

    def issue(self) -> int:
        self.counter += 1
        body = (
            f'{{"external_issuee_id": "cpu-{self.run_id}-{self.counter}", '
            f'"referring_application": "benchmark"}}'
        )
        return self.call("POST", self.path, body.encode())


def statement_times(issuances: Issuances, count: int) -> list[tuple[str, float]]:
    from django.db import connection

    totals: dict[int, list] = defaultdict(lambda: ["", 0.0])
    position = [0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = totals[position[0]]
            entry[0] = sql
            entry[1] += time.perf_counter() - started
            position[0] += 1

    with connection.execute_wrapper(timed):
        for _ in range(count):
            position[0] = 0
            assert issuances.issue() == 200
    return [(sql, seconds / count) for sql, seconds in totals.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--statements", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="vibesweb-incentives-cpu-"))
    in_process_settings(workdir)
    import django

    django.setup()
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import IncentivePool

    pool = IncentivePool.objects.get(company__key="IBENCH", name="Bench")
    issuances = Issuances(pool.pk)
    for _ in range(50):  # warm: the credential remembered, the queue's hint set
        assert issuances.issue() == 200
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(args.requests):
            issuances.issue()
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
        stats.print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
        return
    if args.statements:
        for sql, seconds in statement_times(issuances, args.requests):
            print(f"{1e6 * seconds:8.0f} us  {sql[:150]}")
        return
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        issuances.issue()
    statements = len(captured.captured_queries)
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load {load}, pool {pool.pk}")
    best = None
    for _ in range(args.repeats):
        pid = backend_pid()
        server_before = ticks(pid)
        started, wall = time.process_time(), time.perf_counter()
        for _ in range(args.requests):
            issuances.issue()
        figures = (
            time.process_time() - started,
            ticks(pid) - server_before,
            time.perf_counter() - wall,
        )
        if best is None or figures[2] < best[2]:
            best = figures
    client, server, wall = (1e6 * value / args.requests for value in best)
    print(
        f"issuance: client {client:6.0f} us  server {server:6.0f} us  wall {wall:6.0f} us  "
        f"statements {statements}"
    )


if __name__ == "__main__":
    main()
