"""The sweep, claiming, redelivery and retention of deliveries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django.utils.http import http_date

from callbacks.http import retry_after_seconds
from callbacks.models import CallbackDelivery, CallbackEvent, DeliveryAttempt
from callbacks.services.delivery import deliveries_claim, deliveries_deliver_batch
from callbacks.services.operations import (
    callback_events_prune,
    deliveries_redeliver,
    deliveries_sweep,
)
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import CallbackRegistrationFactory, PersonFactory

from .receiver import Answer

State = CallbackDelivery.State


def emit_many(company, count):
    for _ in range(count):
        person_added_emit(PersonFactory(company=company))


@pytest.mark.django_db
def test_sweep_reopens_claims_of_a_dead_worker(registration, receiver, settings):
    settings.CALLBACK_STALE_SECONDS = 60
    emit_many(registration.company, 2)
    _, claimed = deliveries_claim(limit=2)  # ... and the worker dies here
    stale = timezone.now() - timedelta(seconds=61)
    CallbackDelivery.objects.filter(pk=claimed[0].pk).update(claimed_at=stale)
    result = deliveries_sweep()
    assert result == {"reopened": 1, "abandoned": 0, "due": True, "batches": False}
    deliveries_deliver_batch(enqueue_more=False)
    assert CallbackDelivery.objects.get(pk=claimed[0].pk).state == State.DELIVERED
    # the fresh claim is left to its worker
    assert CallbackDelivery.objects.get(pk=claimed[1].pk).state == State.IN_FLIGHT


@pytest.mark.django_db
def test_a_reopened_claim_is_not_overwritten_by_its_old_worker(registration, receiver):
    emit_many(registration.company, 1)
    token, claimed = deliveries_claim(limit=1)
    CallbackDelivery.objects.update(claim_token=None, state=State.PENDING)  # the sweep
    deliveries_deliver_batch(enqueue_more=False)  # another worker delivers it
    from callbacks.http import Outcome
    from callbacks.services.delivery import Sent, _record

    _record(token, [Sent(claimed[0], Outcome("transient", status_code=500))])
    assert CallbackDelivery.objects.get().state == State.DELIVERED


@pytest.mark.django_db
def test_claimed_rows_are_not_claimed_again(registration):
    emit_many(registration.company, 3)
    _, first = deliveries_claim(limit=2)
    _, second = deliveries_claim(limit=5)
    assert len(first) == 2 and len(second) == 1
    assert {d.pk for d in first}.isdisjoint({d.pk for d in second})
    assert all(d.attempts == 1 for d in first + second)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_skip_locked_rows_on_postgresql(company):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises writers instead")
    CallbackRegistrationFactory(company=company)
    emit_many(company, 40)
    results, barrier = [], threading.Barrier(4)

    def claim():
        barrier.wait()
        results.append([d.pk for d in deliveries_claim(limit=10)[1]])
        connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [pk for batch in results for pk in batch]
    assert len(claimed) == len(set(claimed)) == 40


@pytest.mark.django_db
def test_group_time_budget_releases_unsent_deliveries(registration, receiver, settings):
    settings.CALLBACK_GROUP_TIME_BUDGET_SECONDS = 0
    emit_many(registration.company, 3)
    deliveries_deliver_batch(enqueue_more=False)
    assert receiver.received == []
    assert set(CallbackDelivery.objects.values_list("state", "attempts")) == {(State.PENDING, 0)}


@pytest.mark.django_db
def test_redeliver_only_moves_failed_deliveries(registration, receiver):
    receiver.answer(400)
    emit_many(registration.company, 2)
    deliveries_deliver_batch(enqueue_more=False)
    assert deliveries_redeliver(deliveries=CallbackDelivery.objects.all()) == 1
    states = sorted(CallbackDelivery.objects.values_list("state", "attempts"))
    assert states == [(State.DELIVERED, 1), (State.PENDING, 1)]  # the count goes on


@pytest.mark.django_db
def test_a_redelivery_numbers_its_attempts_on_and_retries_a_fresh_round(
    registration, receiver, settings
):
    settings.CALLBACK_DOWN_AFTER_FAILURES = 100  # keep the destination "up" throughout
    registration.retry_intervals = [0, 0]
    registration.save()
    receiver.default = Answer(status=500)
    emit_many(registration.company, 1)
    for _ in range(3):  # attempt 1 and its two retries
        CallbackDelivery.objects.update(next_attempt_at=timezone.now())
        deliveries_deliver_batch(enqueue_more=False)
    delivery = CallbackDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (State.FAILED, 3)

    deliveries_redeliver(deliveries=CallbackDelivery.objects.all())
    deliveries_deliver_batch(enqueue_more=False)

    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.PENDING, 4)  # retried: a fresh round
    sent = [request.headers["X-Delivery-Attempts"] for request in receiver.received]
    assert sent == ["1", "2", "3", "4"]
    numbers = sorted(DeliveryAttempt.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]  # no second "attempt 1"
    for _ in range(2):
        CallbackDelivery.objects.update(next_attempt_at=timezone.now())
        deliveries_deliver_batch(enqueue_more=False)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.FAILED, 6)


@pytest.mark.django_db
def test_prune_deletes_only_old_settled_events(registration, receiver, settings):
    settings.CALLBACK_RETENTION_DAYS = 1
    emit_many(registration.company, 2)
    deliveries_deliver_batch(enqueue_more=False)
    emit_many(registration.company, 1)  # old but still pending: kept
    CallbackEvent.objects.update(created_at=timezone.now() - timedelta(days=2))
    assert callback_events_prune() == 2
    assert CallbackEvent.objects.count() == 1
    assert DeliveryAttempt.objects.count() == 0
    assert CallbackDelivery.objects.get().state == State.PENDING


def test_retry_after_takes_seconds_or_an_http_date():
    assert retry_after_seconds("120") == 120
    later = (timezone.now() + timedelta(seconds=30)).timestamp()
    assert 28 <= retry_after_seconds(http_date(later)) <= 31
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


@pytest.mark.django_db
def test_drain_delivers_a_backlog_batch_after_batch(registration, receiver, settings):
    settings.CALLBACK_BATCH_SIZE = 4
    emit_many(registration.company, 10)
    from callbacks.services.delivery import deliveries_drain

    assert deliveries_drain(seconds=30) == 10
    assert set(CallbackDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
    assert len(receiver.received) == 10
