"""Callbacks of an import: one outbox batch per chunk and type, expanded by the callbacks
queue into the events and deliveries a single change would have written."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from callbacks.models import CallbackDelivery, CallbackEvent, PersonEventBatch
from callbacks.services import batches as batches_module
from callbacks.services.batches import person_event_batches_expand
from callbacks.services.delivery import deliveries_drain
from callbacks.services.operations import deliveries_sweep
from mobiledb.models import Person
from mobiledb.persons.callbacks import person_body
from mobiledb.persons.selectors import custom_field_schema
from tests.callbacks.receiver import Receiver
from tests.factories import CallbackRegistrationFactory

from .conftest import CONTENT


@pytest.fixture
def registrations(standard_fields):
    return {
        callback_type: CallbackRegistrationFactory(
            company=standard_fields, callback_type=callback_type, api_version=2
        )
        for callback_type in ("person_added", "person_updated")
    }


def test_an_import_records_one_batch_per_chunk_and_type(old_person, registrations, run_import):
    run_import("ACME", CONTENT, chunk_size=4)

    batches = list(PersonEventBatch.objects.values_list("callback_type", "person_ids"))
    assert [(kind, len(ids)) for kind, ids in batches] == [
        ("person_added", 3),  # chunk 1: E1-E3 ...
        ("person_updated", 1),  # ... and OLD
        ("person_added", 2),  # chunk 2: E5, E6
    ]
    assert CallbackEvent.objects.count() == 0  # not one row per person on the import's path


def test_expanded_batches_give_each_person_the_event_a_single_change_would(
    old_person, registrations, run_import
):
    run_import("ACME", CONTENT, chunk_size=4)

    assert person_event_batches_expand() == 6

    assert PersonEventBatch.objects.count() == 0
    schema = custom_field_schema(old_person.company)
    for event in CallbackEvent.objects.all():
        person = Person.objects.select_related("company").get(pk=event.person_id)
        assert event.bodies == {"2": person_body(person, schema=schema, api_version=2)}
        assert event.created_at == person.updated_at  # the change's time is the event date
        expected = "person_updated" if person.pk == old_person.pk else "person_added"
        assert event.callback_type == expected
        assert [d.registration for d in event.deliveries.all()] == [registrations[expected]]
    assert CallbackDelivery.objects.filter(state="pending").count() == 6


def test_a_rerun_that_changes_nothing_records_nothing(old_person, registrations, run_import):
    run_import("ACME", CONTENT)
    person_event_batches_expand()

    run_import("ACME", CONTENT)

    assert PersonEventBatch.objects.count() == 0
    assert person_event_batches_expand() == 0
    assert CallbackEvent.objects.count() == 6


def test_no_registration_no_batch(old_person, run_import):
    run_import("ACME", CONTENT)

    assert PersonEventBatch.objects.count() == 0


def test_a_registration_deleted_before_expansion_gets_nothing(
    old_person, registrations, run_import
):
    run_import("ACME", CONTENT)
    registrations["person_updated"].delete()

    assert person_event_batches_expand() == 5
    assert set(CallbackEvent.objects.values_list("callback_type", flat=True)) == {"person_added"}


def test_a_person_deleted_before_expansion_gets_no_event(old_person, registrations, run_import):
    run_import("ACME", CONTENT)
    Person.objects.filter(external_person_id="E1").delete()

    assert person_event_batches_expand() == 5
    assert PersonEventBatch.objects.count() == 0


def test_a_batch_another_worker_expanded_meanwhile_is_not_expanded_twice(
    old_person, registrations, run_import, monkeypatch
):
    run_import("ACME", CONTENT)
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    build = batches_module._events_of

    def build_while_another_worker_expands(batch):
        built = build(batch)
        monkeypatch.setattr(batches_module, "_events_of", build)
        batches_module._expand_oldest()  # the other worker, on the same batch
        return built

    monkeypatch.setattr(batches_module, "_events_of", build_while_another_worker_expands)

    person_event_batches_expand()

    assert CallbackEvent.objects.count() == 6
    assert sorted(CallbackEvent.objects.values_list("person_id", flat=True)) == sorted(
        Person.objects.values_list("id", flat=True)
    )


def test_the_sweep_expands_batches_a_lost_task_left(
    old_person, registrations, run_import, monkeypatch
):
    run_import("ACME", CONTENT)
    enqueued = []
    monkeypatch.setattr(
        "callbacks.services.operations.enqueue_expansion_now", lambda: enqueued.append(1)
    )

    assert deliveries_sweep()["batches"] is True
    assert enqueued == [1]


@pytest.mark.django_db(transaction=True)
def test_imported_persons_reach_a_real_receiver(standard_fields, run_import):
    receiver = Receiver().start()
    try:
        CallbackRegistrationFactory(company=standard_fields, url=receiver.url, api_version=2)
        run_import("ACME", "mdn,first_name,tier\n2295550001,Ann,gold\n2295550002,Bob,silver\n")

        person_event_batches_expand()
        deliveries_drain(seconds=5)

        payloads = [json.loads(request.body) for request in receiver.received]
    finally:
        receiver.stop()
    assert sorted(p["person"]["mobile_phone"]["mdn"] for p in payloads) == [
        "+12295550001",
        "+12295550002",
    ]
    assert {p["callback_type"] for p in payloads} == {"person_added"}
    ann = next(p["person"] for p in payloads if p["person"]["mobile_phone"]["mdn"].endswith("1"))
    assert ann["custom_fields"]["tier"]["option_key"] == "gold"
    assert ann["person_key"] == str(Person.objects.get(mdn="+12295550001").person_key)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_expands_and_delivers(standard_fields, tmp_path):
    from celery.contrib.testing.worker import start_worker

    from mobiledb.imports.services import person_import_create
    from mobiledb.imports.tasks import person_import_task
    from vibesweb.celery import app

    receiver = Receiver().start()
    CallbackRegistrationFactory(company=standard_fields, url=receiver.url, api_version=2)
    path = tmp_path / "a.persons"
    path.write_text("mdn\n" + "".join(f"229555{n:04d}\n" for n in range(50)))
    person_import = person_import_create(company_key="ACME", file_path=str(path))
    try:
        with start_worker(app, queues=["imports", "callbacks"], perform_ping_check=False,
                          pool="solo"):  # fmt: skip
            person_import_task.delay(person_import.pk)
            deadline = time.monotonic() + 30
            while len(receiver.received) < 50 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        receiver.stop()

    mdns = {
        json.loads(request.body)["person"]["mobile_phone"]["mdn"] for request in receiver.received
    }
    assert mdns == {f"+1229555{n:04d}" for n in range(50)}
    assert PersonEventBatch.objects.count() == 0
