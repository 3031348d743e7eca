"""Admin person list and search with 1,000,000 persons (SPEC section 9: < 300 ms a page).

    .venv/bin/python benchmarks/admin.py [--persons 1000000]

Seeds a fresh database (SQLite in a temp folder, or $DATABASE_URL) with the persons,
then times, through Django's full request stack as a logged-in marketer (a member of
the company, not a superuser, so scoping is part of the cost): the first changelist
page, a deep page, an MDN search, an external id search, a list filter, and a person's
change form. Prints each page's median of 5 against the budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="vibesweb-admin-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ["VIBESWEB_VAR_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "vibesweb.settings"
    os.environ.setdefault("SECRET_KEY", "admin-benchmark-secret-key-0123456789abcdefghijklmnop")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    return workdir


def seed(persons: int):
    from django.core.management import call_command
    from django.db import connection, transaction

    from mobiledb.models import Person
    from mobiledb.persons.custom_fields import custom_field_create
    from vibesweb.tenancy.services import api_user_create, company_create

    call_command("migrate", verbosity=0)
    company = company_create(key="BENCH", name="Bench")
    user = api_user_create(company=company, username="marketer", password="x", staff=True)
    custom_field_create(company=company, name="first_name", data_type="string")
    started = time.perf_counter()
    batch = 20000
    for start in range(0, persons, batch):
        with transaction.atomic():
            Person.objects.bulk_create(
                [
                    Person(
                        company=company,
                        mdn=f"+1612{n:07d}",
                        external_person_id=f"CRM-{n}",
                        custom_fields={"first_name": f"P{n}"},
                    )
                    for n in range(start, min(start + batch, persons))
                ],
                batch_size=batch,
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE mobiledb_person")
    print(f"seeded {persons:,} persons in {time.perf_counter() - started:.0f} s")
    return user


def timed(client, url: str, runs: int = 5) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    configure()
    from django.test import Client

    user = seed(args.persons)
    client = Client()
    client.force_login(user)
    middle = args.persons // 2
    pages = {
        "changelist, first page": "/admin/mobiledb/person/",
        "changelist, page 1000": "/admin/mobiledb/person/?p=1000",
        "search by MDN (formatted)": f"/admin/mobiledb/person/?q=(612) {middle:07d}"[:-4]
        + f"-{middle % 10000:04d}",
        "search by external id": f"/admin/mobiledb/person/?q=CRM-{middle}",
        "filter: never subscribed": "/admin/mobiledb/person/?status=never",
        "person change form": f"/admin/mobiledb/person/{middle}/change/",
    }
    from django.db import connection

    print(f"database: {connection.vendor}; persons: {args.persons:,}")
    for name, url in pages.items():
        median = timed(client, url)
        verdict = "ok" if median < 300 else "OVER"
        print(f"{name:28s} {median:7.1f} ms  (budget < 300 ms) {verdict}")


if __name__ == "__main__":
    main()
