"""One company's poisoned delivery never stalls another company's (issue 16, High).

Two companies, each with a registration pointing at its own real local receiver; their
deliveries are claimed in the same batches. Whatever goes wrong with company A's
delivery, company B's events are each delivered exactly once, and A's delivery is
retried on its registration's scheme and then lands in the failure queue.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from callbacks.http import retry_after_seconds
from callbacks.models import CallbackDelivery, CallbackEvent, DeliveryAttempt
from callbacks.services.delivery import deliveries_claim, deliveries_deliver_batch
from callbacks.services.operations import deliveries_sweep
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import CallbackRegistrationFactory, CompanyFactory, PersonFactory
from vibesweb.inputs import storable_text

from .receiver import Answer, Receiver

State = CallbackDelivery.State
EVENTS_OF_B = 30


@pytest.fixture
def receivers():
    started = [Receiver().start(), Receiver().start()]
    yield started
    for receiver in started:
        receiver.stop()


def _poison_retry_after(registration, receiver):
    # "²".isdigit() is true and float("²") raises: the header once escaped the classifier.
    receiver.default = Answer(429, headers={"Retry-After": "²"})


def _poison_surrogate(registration, receiver):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL refuses to store a lone surrogate at all")
    body = {"person": {"person_id": 1, "custom_fields": {"first_name": "\ud800"}}}
    CallbackEvent.objects.filter(company=registration.company).update(bodies={"1": body})


def _poison_secrets(registration, receiver):
    # Secrets that no longer decrypt (e.g. written under another SECRET_KEY).
    type(registration).objects.filter(pk=registration.pk).update(secrets_encrypted="garbage")


def _poison_nul_in_answer(registration, receiver):
    # PostgreSQL text refuses NUL: the attempt log's excerpt once aborted the batch's record.
    receiver.default = Answer(500, body=b"bad\x00answer")


def _poison_bad_header(registration, receiver):
    from callbacks.crypto import encrypt_json

    secrets = dict(registration.secrets, headers={"X-Bad\n": "1"})
    type(registration).objects.filter(pk=registration.pk).update(
        secrets_encrypted=encrypt_json(secrets)
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "poison",
    [
        _poison_retry_after,
        _poison_surrogate,
        _poison_secrets,
        _poison_nul_in_answer,
        _poison_bad_header,
    ],
    ids=[
        "retry-after-superscript",
        "lone-surrogate-body",
        "undecryptable-secrets",
        "nul-in-answer",
        "newline-header",
    ],
)
def test_a_poisoned_delivery_leaves_another_companys_delivered_exactly_once(
    receivers, poison, settings
):
    settings.CALLBACK_STALE_SECONDS = 0  # every sweep re-opens whatever is left in flight
    receiver_a, receiver_b = receivers
    company_a, company_b = CompanyFactory(key="POISON"), CompanyFactory(key="VICTIM")
    reg_a = CallbackRegistrationFactory(
        company=company_a,
        url=receiver_a.url,
        retry_intervals=[0, 0],
        notification_emails=["ops@poison.example"],
    )
    CallbackRegistrationFactory(company=company_b, url=receiver_b.url)
    person_added_emit(PersonFactory(company=company_a))
    for _ in range(EVENTS_OF_B):
        person_added_emit(PersonFactory(company=company_b))
    poison(reg_a, receiver_a)

    for _ in range(6):  # batches and sweeps, as the worker and the scheduler would run them
        deliveries_deliver_batch(enqueue_more=False)
        deliveries_sweep()

    victims = CallbackDelivery.objects.filter(registration__company=company_b)
    assert set(victims.values_list("state", flat=True)) == {State.DELIVERED}
    event_ids = [json.loads(request.body)["event_id"] for request in receiver_b.received]
    assert len(event_ids) == EVENTS_OF_B == len(set(event_ids))  # exactly once each
    poisoned = CallbackDelivery.objects.get(registration=reg_a)
    # retried on its scheme (3 attempts for two intervals), then the failure queue
    assert poisoned.state == State.FAILED
    assert poisoned.attempts == 3
    assert DeliveryAttempt.objects.filter(delivery=poisoned).count() == 3
    assert poisoned.last_error
    assert mail.outbox and "POISON" in mail.outbox[0].subject


@pytest.mark.django_db
def test_an_internal_fault_does_not_mark_the_destination_down(registration, receiver, settings):
    settings.CALLBACK_DOWN_AFTER_FAILURES = 2
    registration.retry_intervals = [0, 0, 0]
    registration.save()
    for _ in range(3):
        person_added_emit(PersonFactory(company=registration.company))
    _poison_secrets(registration, receiver)
    deliveries_deliver_batch(enqueue_more=False)
    registration.refresh_from_db()
    assert registration.consecutive_failures == 0 and registration.down_until is None
    assert set(CallbackDelivery.objects.values_list("state", flat=True)) == {State.PENDING}
    assert "internal error" in DeliveryAttempt.objects.first().error


@pytest.mark.django_db
def test_the_sweep_fails_a_delivery_reopened_too_often(registration, receiver, settings):
    settings.CALLBACK_MAX_REOPENINGS = 2
    settings.CALLBACK_STALE_SECONDS = 60
    person_added_emit(PersonFactory(company=registration.company))
    for round_ in range(3):  # each time the worker dies before recording
        _, claimed = deliveries_claim(limit=1)
        assert len(claimed) == 1, round_
        stale = timezone.now() - timedelta(seconds=61)
        CallbackDelivery.objects.update(claimed_at=stale)
        result = deliveries_sweep()
    assert result["abandoned"] == 1 and result["reopened"] == 0
    delivery = CallbackDelivery.objects.get()
    assert delivery.state == State.FAILED and delivery.reopenings == 2
    assert "worker was lost" in delivery.last_error
    assert len(mail.outbox) == 1
    assert deliveries_claim(limit=1)[1] == []


@pytest.mark.parametrize("value", ["²", "١٢", "1.5", "-3", "Wed, 99 Foo 2099"])
def test_retry_after_that_is_not_delta_seconds_nor_a_date_is_ignored(value):
    assert retry_after_seconds(value) is None


def test_storable_text_drops_nul_and_lone_surrogates():
    assert storable_text("a\x00b\ud800c") == "a\ufffdb?c"
