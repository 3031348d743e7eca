"""`.opt_outs` import benchmark (SPEC sections 9 and 13): rows/s with the consent ledger
written, peak RSS, and the ratio to a raw bulk insert of the same rows.

    .venv/bin/python benchmarks/opt_outs.py [--rows 1000000] [--db sqlite,postgres]

Generates an `.opt_outs` file (mdn, opt_out_reason; no list: every list, as a carrier's
or a CRM's do-not-text file is). Half of its numbers are persons subscribed to one list,
half are unknown (recorded in the ledger all the same). Each database, in a fresh process:
the import through the engine (`person_import_run`, as the task and the command run it),
then the reference: the same rows read from the same file and written raw into the
ledger's table (`executemany` in one transaction on SQLite, `COPY` on PostgreSQL).
Budget (the person import's pace, SPEC 9): >= 30,000 rows/s, >= 1/3 of the reference's
rate, peak RSS < 250 MB. PostgreSQL: BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/vibesweb_optout_bench), dropped and recreated.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vibesweb_optout_bench"
)
BUDGET_RATE = 30_000
BUDGET_RATIO = 1 / 3
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


def child_import(database_url: str, path: str) -> dict:
    _django(database_url)
    from mobiledb.imports.services import person_import_create, person_import_run
    from mobiledb.models import ConsentRecord

    person_import = person_import_create(company_key="BENCH", file_path=path)
    started = time.perf_counter()
    person_import = person_import_run(person_import.pk)
    seconds = time.perf_counter() - started
    return {
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
    return {"rows": count, "seconds": time.perf_counter() - started}


def run_child(step: str, database_url: str, path: Path, rows: int = 0) -> dict:
    command = [sys.executable, __file__, "--child", step, "--url", database_url,
               "--file", str(path), "--rows", str(rows)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'optouts.sqlite3'}"
    import psycopg

    base, _, name = PG_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG_URL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.child:
        result = {
            "prepare": lambda: child_prepare(args.url, args.rows),
            "import": lambda: child_import(args.url, args.file),
            "reference": lambda: child_reference(args.url, args.file),
        }[args.child]()
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    print(f"{stamp}, load average {os.getloadavg()[0]:.2f}, {args.rows:,} rows")
    ok = True
    with tempfile.TemporaryDirectory(prefix="optouts-bench-") as workdir:
        path = Path(workdir) / "bench.opt_outs"
        generate(path, args.rows)
        for kind in args.db.split(","):
            url = _fresh_database(kind, Path(workdir))
            run_child("prepare", url, path, args.rows)
            imported = run_child("import", url, path)
            reference = run_child("reference", url, path)
            rate = imported["rows"] / imported["seconds"]
            reference_rate = reference["rows"] / reference["seconds"]
            ratio = rate / reference_rate
            passed = (
                imported["status"] == "finished"
                and imported["failed"] == 0
                and imported["ledger_records"] >= imported["rows"]
                and rate >= BUDGET_RATE
                and ratio >= BUDGET_RATIO
                and imported["peak_rss_mb"] < BUDGET_RSS_MB
            )
            ok &= passed
            print(
                f"[{kind}] {imported['rows']:,} rows in {imported['seconds']:.1f}s = "
                f"{rate:,.0f} rows/s (budget >= {BUDGET_RATE:,}); ledger records "
                f"{imported['ledger_records']:,}; reference (raw insert of the same rows) "
                f"{reference['seconds']:.1f}s, ratio {ratio:.2f} (budget >= "
                f"{BUDGET_RATIO:.2f}); peak RSS {imported['peak_rss_mb']:.0f} MB (budget < "
                f"{BUDGET_RSS_MB}): {'PASS' if passed else 'FAIL'}"
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
