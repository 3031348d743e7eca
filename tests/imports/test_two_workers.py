"""Two real workers race to expand an import's person event batches on PostgreSQL.

Each worker is a thread with a database connection of its own (as two Celery worker
processes would have), started together at a barrier, each running the callbacks queue's
expansion task. Every batch must be expanded by exactly one of them: one event per
person, one delivery per event, and each event reaches the receiver once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from callbacks.models import CallbackDelivery, CallbackEvent, PersonEventBatch
from callbacks.services.delivery import deliveries_drain
from callbacks.tasks import expand_person_event_batches
from tests.callbacks.receiver import Receiver
from tests.factories import CallbackRegistrationFactory

ROWS, CHUNK = 300, 5  # 60 batches to share

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SKIP LOCKED claims are PostgreSQL's"
    ),
    pytest.mark.postgres_only,
]


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_expand_a_batch_twice(company, run_import):
    receiver = Receiver().start()
    try:
        CallbackRegistrationFactory(company=company, url=receiver.url, api_version=2)
        content = "mdn\n" + "".join(f"229556{n:04d}\n" for n in range(ROWS))
        run_import("ACME", content, chunk_size=CHUNK)
        assert PersonEventBatch.objects.count() == ROWS // CHUNK
        assert CallbackEvent.objects.count() == 0

        start = threading.Barrier(2)
        written: dict[str, int] = {}
        errors: list[BaseException] = []

        def worker(name: str) -> None:
            try:
                start.wait(timeout=30)
                written[name] = expand_person_event_batches()
            except BaseException as error:  # reported by the assertion below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(n,)) for n in ("one", "two")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert not errors, errors
        assert sum(written.values()) == ROWS, written
        assert all(count > 0 for count in written.values()), f"no race happened: {written}"
        assert PersonEventBatch.objects.count() == 0
        person_ids = list(CallbackEvent.objects.values_list("person_id", flat=True))
        assert len(person_ids) == len(set(person_ids)) == ROWS
        assert CallbackDelivery.objects.count() == ROWS

        while deliveries_drain(seconds=30):
            pass
        event_ids = Counter(json.loads(r.body)["event_id"] for r in receiver.received)
        assert len(event_ids) == ROWS
        assert max(event_ids.values()) == 1
    finally:
        receiver.stop()
