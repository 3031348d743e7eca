"""Benchmark: a broadcast to 100,000 subscribers through the message backend.

    .venv/bin/python benchmarks/broadcast.py [--subscribers 100000] [--batch-size 1000]

Runs on whatever DATABASE_URL names (SQLite by default), in a throw-away test database
created and migrated for the run. Seeds with bulk_create: N persons actively subscribed
to list A, 30% of them also on list B (the broadcast targets both, so they must be
deduplicated), and 5% more persons who opted out of A (who must get nothing). Then it
starts the broadcast as the scheduler does and sends every batch with the code the
`messaging` task runs (`broadcast_send_next_batch`), through the default backend (rows
stored, each message logged, to a file here). It checks the exact counts and prints the
duration. SPEC section 9 sets no budget for broadcasts; issue 5 asks for exact counts
and no message to an opted-out person.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vibesweb.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
WORKDIR = Path(tempfile.mkdtemp(prefix="vibesweb-bench-broadcast-"))


def configure_django() -> None:
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database["TEST"]["NAME"] = str(WORKDIR / "bench.sqlite3")
    log = logging.getLogger("vibesweb.messages")
    log.handlers = [logging.FileHandler(WORKDIR / "messages.log")]
    log.propagate = False
    log.setLevel(logging.INFO)


def seed(subscribers: int):
    from django.db import transaction
    from django.utils import timezone

    from mobiledb.models import Person, Subscription, SubscriptionList
    from vibesweb.tenancy.models import Company

    company = Company.objects.create(key="BENCH", name="Broadcast benchmark")
    list_a = SubscriptionList.objects.create(company=company, name="A")
    list_b = SubscriptionList.objects.create(company=company, name="B")
    opted_out = subscribers // 20
    now = timezone.now()
    chunk = 5000
    with transaction.atomic():
        for start in range(0, subscribers + opted_out, chunk):
            numbers = range(start, min(start + chunk, subscribers + opted_out))
            Person.objects.bulk_create(
                [
                    Person(
                        company=company,
                        mdn=f"+1612{n:07d}",
                        external_person_id=f"B{n}",
                        custom_fields={"first_name": f"P{n}"},
                    )
                    for n in numbers
                ],
                batch_size=chunk,
            )
        ids = list(
            Person.objects.filter(company=company).order_by("pk").values_list("pk", flat=True)
        )
        active_ids, gone_ids = ids[:subscribers], ids[subscribers:]
        rows = []
        for index, pk in enumerate(active_ids):
            rows.append(
                Subscription(
                    company=company, person_id=pk, subscription_list=list_a, opt_in_date=now
                )
            )
            if index % 10 < 3:
                rows.append(
                    Subscription(
                        company=company, person_id=pk, subscription_list=list_b, opt_in_date=now
                    )
                )
        for pk in gone_ids:
            rows.append(
                Subscription(
                    company=company,
                    person_id=pk,
                    subscription_list=list_a,
                    opt_in_date=now - timedelta(days=30),
                    opt_out_date=now - timedelta(days=1),
                    opt_out_reason=Subscription.OptOutReason.USER_OPT_OUT,
                )
            )
        Subscription.objects.bulk_create(rows, batch_size=chunk)
    return company, [list_a, list_b], set(gone_ids), len(rows)


def run(subscribers: int, batch_size: int) -> int:
    from django.db import connection
    from django.utils import timezone

    from mobiledb.broadcasts.services import broadcast_send_next_batch, broadcast_start
    from mobiledb.models import Broadcast, OutboundMessage

    vendor = connection.vendor
    began = time.perf_counter()
    company, lists, gone_ids, subscription_rows = seed(subscribers)
    seeded = time.perf_counter() - began
    print(
        f"seeded {subscribers + len(gone_ids):,} persons, {subscription_rows:,} subscription rows "
        f"on {vendor} in {seeded:.1f} s"
    )
    broadcast = Broadcast.objects.create(
        company=company,
        name="benchmark",
        send_scheduled_date=timezone.now(),
        message_template="Hi {{first_name}}, 20% off today. Reply STOP to opt out.",
    )
    broadcast.source_lists.set(lists)

    began = time.perf_counter()
    assert broadcast_start(broadcast_id=broadcast.pk)
    batches = 1
    while broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=batch_size):
        batches += 1
    duration = time.perf_counter() - began

    broadcast.refresh_from_db()
    messages = OutboundMessage.objects.filter(broadcast=broadcast)
    sent = messages.count()
    distinct = messages.values("person_id").distinct().count()
    to_opted_out = messages.filter(person_id__in=list(gone_ids)[:50000]).count()
    problems = []
    if broadcast.status != Broadcast.Status.SENT:
        problems.append(f"status {broadcast.status}")
    if not (sent == distinct == broadcast.sent_count == broadcast.audience_count == subscribers):
        problems.append(
            f"counts: stored {sent}, distinct persons {distinct}, sent_count "
            f"{broadcast.sent_count}, audience {broadcast.audience_count}, expected {subscribers}"
        )
    if to_opted_out:
        problems.append(f"{to_opted_out} messages to opted-out persons")
    print(
        f"broadcast to {subscribers:,} subscribers on {vendor}: {duration:.2f} s "
        f"({subscribers / duration:,.0f} messages/s, {batches} batches of {batch_size}), "
        f"status {broadcast.status}, sent {sent:,}, to opted-out persons {to_opted_out}"
    )
    print(
        "budget: none in SPEC section 9; issue 5 requires exact counts and no opted-out recipient"
    )
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print("OK: exact counts, deduplicated per person, no message to an opted-out person")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    configure_django()
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        return run(args.subscribers, args.batch_size)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
