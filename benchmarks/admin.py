"""Admin person list and search with 1,000,000 persons (SPEC section 9: < 300 ms a page).

    .venv/bin/python benchmarks/admin.py [--persons 1000000]

Seeds a fresh database (SQLite in a temp folder, or $DATABASE_URL) with the persons,
then times, through Django's full request stack as a logged-in marketer (a member of
the company, not a superuser, so scoping is part of the cost): the first changelist
page (with its name, picked custom field and subscription status columns), a deep page,
searches (whole MDN, partial MDN, external id in another case, a name), filters (a list,
a custom field value, a tag, a saved segment's filters), the segment list with its live
counts, and a person's change form. Prints each page's median of 5 against the budget,
and its ratio to the admin's password-change page in the same run (the floor: the
same stack and templates, no data).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
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
    from django.utils import timezone

    from mobiledb.models import Person, PersonTag, Subscription
    from mobiledb.persons.custom_fields import custom_field_create
    from mobiledb.segments.services import segment_save
    from mobiledb.subscriptions.services import subscription_list_create
    from vibesweb.tenancy.services import api_user_create, company_create

    call_command("migrate", verbosity=0)
    company = company_create(key="BENCH", name="Bench")
    user = api_user_create(company=company, username="marketer", password="x", staff=True)
    custom_field_create(company=company, name="first_name", data_type="string")
    custom_field_create(company=company, name="last_name", data_type="string")
    custom_field_create(company=company, name="city", data_type="string", list_column=True)
    custom_field_create(
        company=company, name="tier", data_type="single_select", list_column=True,
        options=[("gold", "Gold"), ("silver", "Silver")],
    )  # fmt: skip
    news = subscription_list_create(company=company, name="News")
    cities = ["Austin", "Boston", "Chicago", "Denver", "El Paso"]
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
                        custom_fields={
                            "first_name": f"P{n}",
                            "last_name": f"L{n % 9973}",
                            "city": cities[n % 5],
                            "tier": "gold" if n % 10 == 0 else "silver",
                        },
                    )
                    for n in range(start, min(start + batch, persons))
                ],
                batch_size=batch,
            )
    # every 20th person subscribed, every 100th tagged: realistic shares of the table
    first_id = Person.objects.filter(company=company).order_by("pk").values_list("pk", flat=True)[0]
    for start in range(0, persons, batch):
        ids = range(first_id + start, first_id + min(start + batch, persons))
        with transaction.atomic():
            Subscription.objects.bulk_create(
                Subscription(company=company, person_id=pk, subscription_list=news,
                             opt_in_date=timezone.now())
                for pk in ids if pk % 20 == 0
            )  # fmt: skip
            PersonTag.objects.bulk_create(
                PersonTag(person_id=pk, tag="vip") for pk in ids if pk % 100 == 0
            )
    segment_save(
        company=company, name="Gold in Austin", filters={"cf.tier": "gold", "cf.city": "austin"}
    )
    segment_save(company=company, name="Everyone subscribed", filters={"status": "subscribed"})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("mobiledb_person", "mobiledb_subscription", "mobiledb_persontag"):
                cursor.execute(f"ANALYZE {table}")
    print(f"seeded {persons:,} persons in {time.perf_counter() - started:.0f} s")
    search_index()
    return user, news


def search_index() -> None:
    """Run the search indexer as the scheduler does (its Celery beat task, here run in
    this process), as it would after an import: until then a search scans."""
    from django.test.utils import override_settings

    from mobiledb.segments.tasks import person_search_index

    started = time.perf_counter()
    # A mark right up to now (no lag): the seeded persons' transactions are all committed.
    with override_settings(PERSON_SEARCH_INDEX_LAG_SECONDS=0):
        indexed = person_search_index.apply().get()
    print(
        f"search indexer (the scheduler's task mobiledb.person_search_index): "
        f"{indexed:,} persons in {time.perf_counter() - started:.0f} s"
    )


def timed(client, url: str, runs: int = 5, expect: str | None = None) -> float:
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        if expect is not None:
            # a search must find its person, not merely answer fast
            assert expect in response.content.decode(), (url, expect)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument(
        "--seeded", action="store_true",
        help="time an already seeded $DATABASE_URL (a previous run's) instead of seeding",
    )  # fmt: skip
    args = parser.parse_args()
    configure()
    from django.test import Client

    if args.seeded:
        from django.core.management import call_command

        from mobiledb.models import SubscriptionList
        from vibesweb.tenancy.models import Membership

        call_command("migrate", verbosity=0)
        user = Membership.objects.select_related("user").get(company__key="BENCH").user
        news = SubscriptionList.objects.get(company__key="BENCH", name="News")
    else:
        user, news = seed(args.persons)
    client = Client()
    client.force_login(user)
    middle = args.persons // 2
    pages = {
        "changelist, first page": "/admin/mobiledb/person/",
        "changelist, page 1000": "/admin/mobiledb/person/?p=1000",
        "search by MDN (formatted)": f"/admin/mobiledb/person/?q=(612) {middle:07d}"[:-4]
        + f"-{middle % 10000:04d}",
        "search by partial MDN": f"/admin/mobiledb/person/?q={middle % 10000:04d}",
        "search by external id": f"/admin/mobiledb/person/?q=CRM-{middle}",
        "search by id, other case": f"/admin/mobiledb/person/?q=crm-{middle}",
        "search by name": f"/admin/mobiledb/person/?q=P{middle}",
        "search by a common value": "/admin/mobiledb/person/?q=austin",
        "filter: never subscribed": "/admin/mobiledb/person/?status=never",
        "filter: a list": f"/admin/mobiledb/person/?list={news.pk}",
        "filter: custom field": "/admin/mobiledb/person/?cf.tier=gold",
        "filter: tag": "/admin/mobiledb/person/?tag=vip",
        "segment's filters": "/admin/mobiledb/person/?cf.tier=gold&cf.city=austin",
        "segment list, live counts": "/admin/mobiledb/segment/",
        "person change form": f"/admin/mobiledb/person/{middle}/change/",
    }
    suffix_matches = sum(1 for n in range(args.persons) if n % 10000 == middle % 10000)
    expects = {
        # what each search must find: its result count, and the person by name where one
        "search by external id": f"P{middle} L{middle % 9973}",
        "search by id, other case": f"P{middle} L{middle % 9973}",
        "search by name": f"P{middle} L{middle % 9973}",
    }
    if middle % 10000 == 0:  # else the digits are also a person's id, found as such
        expects["search by partial MDN"] = f"{suffix_matches} person"
    from django.db import connection

    # the floor: an admin page with no data of its own (session, auth, admin templates)
    floor = timed(client, "/admin/password_change/", runs=10)
    print(
        f"database: {connection.vendor}; persons: {args.persons:,}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.2f}; "
        f"floor (/admin/password_change/) {floor:.1f} ms"
    )
    for name, url in pages.items():
        median = timed(client, url, expect=expects.get(name))
        verdict = "ok" if median < 300 else "OVER"
        print(
            f"{name:28s} {median:7.1f} ms  (budget < 300 ms) {verdict}  "
            f"{median / floor:6.1f} x floor"
        )


if __name__ == "__main__":
    main()
