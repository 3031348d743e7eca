"""Wallet benchmark (SPEC section 9): signed .pkpass per second per core, and a wallet
message to 100,000 items end to end.

    .venv/bin/python benchmarks/wallet.py [--passes 1000] [--items 100000] [--batch-size 1000]

Runs on whatever DATABASE_URL names (SQLite by default), in a throw-away test database
created and migrated for the run, with development signing material generated in a
temporary folder.

1. Passes: builds `--passes` signed bundles of a personalized loyalty item with the code
   the `.pkpass` view runs (`pkpass_build`: pass.json, images, manifest, detached PKCS#7
   with the WWDR intermediate, zip), timed in process CPU seconds, so the figure is per
   core. Floor: the PKCS#7 signature alone of the same manifest, in the same run.
2. Message: seeds `--items` items, each installed on one Apple device, creates a message
   with a filter and a `{{first_name}}` template through the service the API calls, and
   sends every batch with the code the `messaging` task runs (personalize, set the
   notification, bump the update tag, push through the default backend: one stored push
   per device). Floor: the same writes as bare SQL with no per-item work (one UPDATE of
   every item's notification, multi-row INSERTs of the push rows), in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vibesweb.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
WORKDIR = Path(tempfile.mkdtemp(prefix="vibesweb-bench-wallet-"))
BUDGET_PASSES = 200  # per second per core
BUDGET_MESSAGE_SECONDS = 60.0
DESIGN = {
    "background_color": "#1e3a8a",
    "logo_text": "Acme Rewards",
    "header_fields": [{"key": "points", "label": "Points", "value": "{{loyalty_balance}}"}],
    "primary_fields": [{"key": "name", "label": "Member", "value": "{{first_name}}"}],
    "secondary_fields": [{"key": "tier", "label": "Tier", "value": "{{tier}}"}],
    "barcode": {"format": "qr", "message": "{{code}}"},
}


def configure_django() -> None:
    import django
    from django.conf import settings

    django.setup()
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database["TEST"]["NAME"] = str(WORKDIR / "bench.sqlite3")
    settings.WALLET_DEV_CERT_DIR = str(WORKDIR / "keys")
    for name in ("vibesweb.wallet.push", "vibesweb.messages"):
        log = logging.getLogger(name)
        log.handlers = [logging.FileHandler(WORKDIR / "pushes.log")]
        log.propagate = False
        log.setLevel(logging.INFO)


def bench_passes(count: int) -> tuple[float, float]:
    """(passes per CPU second, floor: signatures alone per CPU second)."""
    from vibesweb.tenancy.models import Company
    from wallet.passkit.bundle import manifest_sign, pkpass_build
    from wallet.passkit.certificates import pass_credentials
    from wallet.services.campaigns import wallet_campaign_create
    from wallet.services.items import wallet_item_open

    company = Company.objects.create(key="PASSES", name="Pass benchmark")
    campaign = wallet_campaign_create(
        company=company, fields={"name": "Rewards", "type": "loyalty", "design": DESIGN}
    )
    item, _ = wallet_item_open(
        campaign=campaign,
        wallet_item_id="bench-1",
        tokens={"first_name": "Ann", "loyalty_balance": "120", "tier": "Gold", "code": "A1"},
    )
    credentials = pass_credentials()  # generated once, outside the timing
    pkpass_build(item, web_service_url="https://example.com/passkit/")
    began = time.process_time()
    for _ in range(count):
        bundle = pkpass_build(item, web_service_url="https://example.com/passkit/")
    pass_cpu = time.process_time() - began
    assert bundle[:2] == b"PK"
    manifest = b'{"pass.json":"' + b"0" * 40 + b'","icon.png":"' + b"1" * 40 + b'"}'
    began = time.process_time()
    for _ in range(count):
        manifest_sign(manifest, credentials)
    sign_cpu = time.process_time() - began
    return count / pass_cpu, count / sign_cpu


def seed_items(count: int):
    from django.db import transaction
    from django.utils import timezone

    from vibesweb.tenancy.models import Company
    from wallet.models import DeviceRegistration, WalletItem
    from wallet.services.campaigns import wallet_campaign_create

    company = Company.objects.create(key="MESSAGE", name="Message benchmark")
    campaign = wallet_campaign_create(
        company=company, fields={"name": "Rewards", "type": "loyalty", "design": DESIGN}
    )
    now = timezone.now()
    chunk = 5000
    with transaction.atomic():
        for start in range(0, count, chunk):
            WalletItem.objects.bulk_create(
                [
                    WalletItem(
                        company=company,
                        campaign=campaign,
                        uuid=f"item-{n}",
                        group_code="vip" if n % 2 else "std",
                        tokens={"first_name": f"P{n}", "loyalty_balance": str(n % 500)},
                        active=True,
                        provider="passbook",
                    )
                    for n in range(start, min(start + chunk, count))
                ],
                batch_size=chunk,
            )
        ids = WalletItem.objects.filter(campaign=campaign).values_list("pk", flat=True)
        DeviceRegistration.objects.bulk_create(
            [
                DeviceRegistration(
                    item_id=pk,
                    provider="apple",
                    device_library_identifier=f"device-{pk}",
                    push_token=f"token-{pk}",
                    registered_at=now,
                )
                for pk in ids.iterator(chunk_size=chunk)
            ],
            batch_size=chunk,
        )
    return campaign


def bench_message(count: int, batch_size: int) -> tuple[float, float, list[str]]:
    """(message seconds, floor seconds, problems)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from wallet.models import DeviceRegistration, WalletItem, WalletMessage, WalletPush
    from wallet.services.messages import wallet_message_create, wallet_message_send_next_batch

    began = time.perf_counter()
    campaign = seed_items(count)
    print(
        f"seeded {count:,} items, each on one Apple device, in {time.perf_counter() - began:.1f} s"
    )

    began = time.perf_counter()
    message = wallet_message_create(
        campaign=campaign,
        body={
            "message": {"header": "News", "template": "Hi {{first_name}}, double points today"},
            "filters": [{"name": "group_code", "selector": "any", "value": ["vip", "std"]}],
        },
    )
    batches = 1
    while wallet_message_send_next_batch(message_id=message.pk, batch_size=batch_size):
        batches += 1
    duration = time.perf_counter() - began
    message.refresh_from_db()
    problems = []
    pushes = WalletPush.objects.filter(item__campaign=campaign).count()
    personalized = WalletItem.objects.filter(
        campaign=campaign, notification="Hi P7, double points today"
    ).count()
    if message.status != WalletMessage.Status.SENT:
        problems.append(f"status {message.status}")
    if not (message.recipient_count == message.sent_count == pushes == count):
        problems.append(
            f"counts: recipients {message.recipient_count}, sent {message.sent_count}, "
            f"pushes {pushes}, expected {count}"
        )
    if personalized != 1:
        problems.append("the template was not personalized per item")
    print(
        f"message to {count:,} items: {duration:.2f} s ({count / duration:,.0f} items/s, "
        f"{batches} batches of {batch_size}), {pushes:,} pushes stored, status {message.status}"
    )

    # Floor: the same writes with no per-item work.
    now = timezone.now()
    registrations = list(
        DeviceRegistration.objects.filter(item__campaign=campaign).values_list(
            "pk", "item_id", "push_token"
        )
    )
    quote = connection.ops.quote_name
    stamp = WalletPush._meta.get_field("created_at").get_db_prep_value(now, connection)
    rows = [(campaign.company_id, item_id, pk, token, "floor", "sent", "", stamp)
            for pk, item_id, token in registrations]  # fmt: skip
    columns = ", ".join(
        quote(c)
        for c in ("company_id", "item_id", "registration_id", "push_token", "backend",
                  "status", "detail", "created_at")
    )  # fmt: skip
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(WalletItem._meta.db_table)} SET notification = %s "
            "WHERE campaign_id = %s",
            ["floor", campaign.pk],
        )
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(WalletPush._meta.db_table)} ({columns}) VALUES {values}",
                [value for row in chunk for value in row],
            )
    floor = time.perf_counter() - began
    return duration, floor, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    configure_django()
    from django.db import connection

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        vendor = connection.vendor
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        print(f"{stamp}, {vendor}, load average {os.getloadavg()[0]:.2f}")
        rate, floor_rate = bench_passes(args.passes)
        print(
            f"signed .pkpass: {rate:,.0f} passes/s per core (budget >= {BUDGET_PASSES}); "
            f"floor (PKCS#7 signature alone): {floor_rate:,.0f}/s; "
            f"ratio pkpass/floor {rate / floor_rate:.2f}"
        )
        duration, floor, problems = bench_message(args.items, args.batch_size)
        print(
            f"message end to end: {duration:.2f} s (budget < {BUDGET_MESSAGE_SECONDS:.0f} s); "
            f"floor (bare UPDATE + INSERT of the pushes): {floor:.2f} s; "
            f"ratio floor/message {floor / duration:.2f}"
        )
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        if rate < BUDGET_PASSES:
            problems.append(f"{rate:.0f} passes/s per core < {BUDGET_PASSES}")
        if duration >= BUDGET_MESSAGE_SECONDS:
            problems.append(f"message took {duration:.1f} s >= {BUDGET_MESSAGE_SECONDS:.0f}")
        if problems:
            print("FAILED: " + "; ".join(problems))
            return 1
        print("OK: within SPEC section 9's budgets")
        return 0
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
