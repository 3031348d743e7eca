"""`.opt_outs` import benchmark (SPEC sections 9 and 13): rows/s with the consent ledger
written, peak RSS, and the ratio to a raw bulk insert of the same rows.

    .venv/bin/python benchmarks/opt_outs.py [--rows 1000000] [--db sqlite,postgres]

Generates an `.opt_outs` file (mdn, opt_out_reason; no list: every list, as a carrier's
or a CRM's do-not-text file is). Half of its numbers are persons subscribed to one list,
half are unknown (recorded in the ledger all the same). Each database, in a fresh process:
the import through the engine (`person_import_run`, as the task and the command run it),
then the reference: the same rows read from the same file and written raw into the
ledger's table (`executemany` in one transaction on SQLite, `COPY` on PostgreSQL).
A tenth of the file is imported too, into a fresh database, to show that peak memory is
flat in file size. Before each measured step PostgreSQL checkpoints (see _settle).
Budget (the person import's pace, SPEC 9): >= 0.5 x the reference's rate measured in the
same run (issue 17; the machine is shared, the ratio carries its speed), peak RSS < 250
MB, flat; >= 30,000 rows/s is printed on a second line. PostgreSQL: BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/vibesweb_optout_bench), dropped and
recreated. `--profile FILE` runs the import under cProfile (pstats to FILE).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The person import benchmark's CPU clock (this process and its PostgreSQL backend).
CPUClock = importlib.import_module("import").CPUClock
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vibesweb_optout_bench"
)
BUDGET_RATE = 30_000
BUDGET_RATIO = 0.5
BUDGET_RSS_MB = 250


def generate(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("mdn,opt_out_reason\n")
        for n in range(rows):
            out.write(f"{2000000000 + n * 7},user_opt_out\n")


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vibesweb.settings")
    os.environ.setdefault("VIBESWEB_VAR_DIR", tempfile.mkdtemp(prefix="bench-var-"))
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-benchmark-only-secret-key")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_prepare(database_url: str, rows: int) -> dict:
    """Fresh schema, company BENCH, half the file's numbers as persons on one list."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    _django(database_url)
    call_command("migrate", verbosity=0)
    from mobiledb.models import Person, Subscription, SubscriptionList
    from vibesweb.tenancy.models import Company

    company = Company.objects.create(key="BENCH", name="Bench")
    reference = Company.objects.create(key="REFERENCE", name="Reference")
    subscription_list = SubscriptionList.objects.create(company=company, name="News")
    now = timezone.now()
    batch = 20_000
    with transaction.atomic():
        for start in range(0, rows, 2 * batch):
            numbers = [
                f"+1{2000000000 + n * 7}" for n in range(start, min(rows, start + 2 * batch), 2)
            ]
            persons = Person.objects.bulk_create(
                Person(company=company, mdn=mdn, custom_fields={}) for mdn in numbers
            )
            Subscription.objects.bulk_create(
                Subscription(
                    company=company, person=p, subscription_list=subscription_list, opt_in_date=now
                )
                for p in persons
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"persons": Person.objects.count(), "reference_company": reference.pk}


def child_import(database_url: str, path: str, profile: str | None = None) -> dict:
    _django(database_url)
    from mobiledb.imports.services import person_import_create, person_import_run
    from mobiledb.models import ConsentRecord, SuppressedNumber
    from mobiledb.subscriptions.consent import consent_ledger_verify
    from vibesweb.tenancy.models import Company

    person_import = person_import_create(company_key="BENCH", file_path=path)
    clock = CPUClock()
    started = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        person_import = profiler.runcall(person_import_run, person_import.pk)
        profiler.dump_stats(profile)
    else:
        person_import = person_import_run(person_import.pk)
    seconds = time.perf_counter() - started
    cpu = clock.elapsed()
    company = Company.objects.get(key="BENCH")
    return {
        **cpu,
        "chain_intact": consent_ledger_verify(company=company).intact,
        "silenced": SuppressedNumber.objects.filter(company=company).count(),
        "status": person_import.status,
        "rows": person_import.rows,
        "failed": person_import.failed,
        "ledger_records": ConsentRecord.objects.filter(company__key="BENCH").count(),
        "seconds": seconds,
    }


def child_reference(database_url: str, path: str) -> dict:
    """The same rows, raw, into the ledger table: the floor the import is measured against."""
    _django(database_url)
    from django.db import connection, transaction

    from vibesweb.tenancy.models import Company

    company_id = Company.objects.get(key="REFERENCE").pk
    now = datetime.datetime.now(datetime.UTC)
    clock = CPUClock()
    started = time.perf_counter()
    columns = (
        "company_id, sequence, mdn, person_id, action, subscription_list_id, campaign_id, "
        "channel, source, text, occurred_at, previous_hash, hash"
    )
    with open(path, encoding="utf-8") as lines, transaction.atomic():
        next(lines)
        rows = (
            (company_id, n, "+1" + line.split(",", 1)[0], None, "opt_out", None, None,
             "import", f"import bench row {n}", "", now, "0" * 64, "f" * 64)
            for n, line in enumerate(lines, start=1)
        )  # fmt: skip
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY mobiledb_consentrecord ({columns}) FROM STDIN") as copy:
                    count = 0
                    for count, row in enumerate(rows, start=1):  # noqa: B007
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 13)
                statement = f"INSERT INTO mobiledb_consentrecord ({columns}) VALUES ({marks})"
                materialized = list(rows)
                cursor.executemany(statement, materialized)
                count = len(materialized)
    return {"rows": count, "seconds": time.perf_counter() - started, **clock.elapsed()}


def run_child(step: str, database_url: str, path: Path, rows: int = 0,
              profile: str | None = None) -> dict:  # fmt: skip
    command = [sys.executable, __file__, "--child", step, "--url", database_url,
               "--file", str(path), "--rows", str(rows)]  # fmt: skip
    if profile:
        command += ["--profile", profile]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _fresh_database(kind: str, workdir: Path, label: str) -> str:
    if kind == "sqlite":
        db_file = workdir / f"{label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db_file}"
    import psycopg

    base, _, name = PG_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_URL


def bench(kind: str, big: Path, small: Path, rows: int, workdir: Path,
          profile: str | None) -> dict:  # fmt: skip
    """The import of a tenth of the file (memory), of the file, then the reference."""
    results = {}
    for label, path, count in (("small", small, rows // 10), ("full", big, rows)):
        url = _fresh_database(kind, workdir, f"{kind}-{label}")
        run_child("prepare", url, path, count)
        _settle(kind)
        results[label] = run_child("import", url, path,
                                   profile=profile if label == "full" else None)  # fmt: skip
    _settle(kind)
    results["reference"] = run_child("reference", url, big)
    return results


def _settle(kind: str) -> None:
    """PostgreSQL: write out what the step before left in shared buffers (CHECKPOINT), so
    that no measured step pays for another's writes: the prepare's million rows for the
    import, the import's for the reference."""
    if kind != "postgres":
        return
    import psycopg

    base = PG_URL.rpartition("/")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute("CHECKPOINT")


def report(kind: str, r: dict) -> bool:
    full, small, ref = r["full"], r["small"], r["reference"]
    rate = full["rows"] / full["seconds"]
    ratio = rate / (ref["rows"] / ref["seconds"])
    import_cpu = full["client_cpu"] + full["server_cpu"]
    ref_cpu = ref["client_cpu"] + ref["server_cpu"]
    correct = (full["status"] == "finished" and full["failed"] == 0 and full["chain_intact"]
               and full["ledger_records"] >= full["rows"])  # fmt: skip
    passed = correct and ratio >= BUDGET_RATIO and full["peak_rss_mb"] < BUDGET_RSS_MB
    print(
        f"\n[{kind}] import of {full['rows']:,} rows: {full['seconds']:.1f}s = {rate:,.0f} rows/s; "
        f"ledger records {full['ledger_records']:,} (chain verified: {full['chain_intact']}), "
        f"numbers silenced {full['silenced']:,}, failed {full['failed']:,}\n"
        f"[{kind}] raw bulk insert of the same rows into the ledger table: {ref['seconds']:.1f}s "
        f"= {ref['rows'] / ref['seconds']:,.0f} rows/s; import/reference = {ratio:.2f} "
        f"(budget >= {BUDGET_RATIO})\n"
        f"[{kind}] absolute: {rate:,.0f} rows/s (budget >= {BUDGET_RATE:,}) "
        f"{'PASS' if rate >= BUDGET_RATE else 'FAIL (absolute figures follow the machine)'}\n"
        f"[{kind}] CPU seconds (this process + database server): import "
        f"{full['client_cpu']:.1f} + {full['server_cpu']:.1f}, reference "
        f"{ref['client_cpu']:.1f} + {ref['server_cpu']:.1f}; ratio by CPU "
        f"{ref_cpu / import_cpu:.2f} (load average {os.getloadavg()[0]:.1f})\n"
        f"[{kind}] peak RSS: {full['peak_rss_mb']:.0f} MB at {full['rows']:,} rows, "
        f"{small['peak_rss_mb']:.0f} MB at {small['rows']:,} rows (budget < {BUDGET_RSS_MB} MB, "
        f"flat)\n"
        f"[{kind}] {'PASS' if passed else 'FAIL'}"
    )
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--profile", help="run the full import under cProfile, stats to this file")
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.child:
        result = {
            "prepare": lambda: child_prepare(args.url, args.rows),
            "import": lambda: child_import(args.url, args.file, args.profile),
            "reference": lambda: child_reference(args.url, args.file),
        }[args.child]()
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f".opt_outs benchmark {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"load average {load}, {args.rows:,} rows\n"
        f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}"
    )
    ok = True
    with tempfile.TemporaryDirectory(prefix="optouts-bench-") as workdir:
        big, small = Path(workdir) / "bench.opt_outs", Path(workdir) / "small.opt_outs"
        generate(big, args.rows)
        generate(small, args.rows // 10)
        for kind in args.db.split(","):
            results = bench(kind, big, small, args.rows, Path(workdir), args.profile)
            ok = report(kind, results) and ok
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"load average at the end {load}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
