"""Emission: the outbox rows, their scope and dates, and the payloads of seeds/000."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackDelivery, CallbackEvent
from callbacks.payloads import callback_payload
from callbacks.services import callback_event_emit, callback_events_emit_bulk
from mobiledb.persons.callbacks import person_events_emit_bulk
from mobiledb.persons.services import person_add, person_update
from tests.factories import CallbackRegistrationFactory, PersonFactory, SubscriptionListFactory


def payload_of(event, registration, attempt=1):
    return callback_payload(event=event, registration=registration, attempt=attempt)


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_leaves_no_event(company):
    CallbackRegistrationFactory(company=company)
    with pytest.raises(RuntimeError), transaction.atomic():
        person_add(company=company, mdn="+12995551234")
        assert CallbackEvent.objects.count() == 1
        raise RuntimeError("the change fails after the event was written")
    assert CallbackEvent.objects.count() == 0
    assert CallbackDelivery.objects.count() == 0


@pytest.mark.django_db
def test_delivery_is_enqueued_only_after_commit(company, django_capture_on_commit_callbacks):
    CallbackRegistrationFactory(company=company)
    with django_capture_on_commit_callbacks() as callbacks:
        person_add(company=company, mdn="+12995551234")
        person_add(company=company, mdn="+12995551235")
    assert len(callbacks) == 1  # one enqueue per transaction, however many events


@pytest.mark.django_db
def test_nothing_is_written_without_a_registration(company):
    calls = []
    callback_event_emit(
        company=company, callback_type="person_added", body=lambda v: calls.append(v) or {}
    )
    assert CallbackEvent.objects.count() == 0 and calls == []


@pytest.mark.django_db
def test_unknown_type_is_a_programming_error(company):
    with pytest.raises(ValueError):
        callback_event_emit(company=company, callback_type="nope", body=lambda v: {})


@pytest.mark.django_db
def test_ended_and_future_registrations_do_not_fire(company):
    now = timezone.now()
    CallbackRegistrationFactory(company=company, end_date=now - timedelta(seconds=1))
    CallbackRegistrationFactory(
        company=company, callback_type="person_updated", start_date=now + timedelta(hours=1)
    )
    person, _ = person_add(company=company, mdn="+12995551234")
    person_update(person=person, external_person_id="X1")
    assert CallbackEvent.objects.count() == 0


@pytest.mark.django_db
def test_other_company_registrations_do_not_fire(company):
    CallbackRegistrationFactory()  # another company
    person_add(company=company, mdn="+12995551234")
    assert CallbackEvent.objects.count() == 0


@pytest.mark.django_db
def test_scope_limits_events_to_the_registered_list(company):
    wanted, other = (
        SubscriptionListFactory(company=company),
        SubscriptionListFactory(company=company),
    )
    CallbackRegistrationFactory(
        company=company, callback_type="subscription_added", scope={"list_id": str(wanted.pk)}
    )

    def body_for(list_id):
        return lambda v: {"subscription": {"subscription_list": {"id": str(list_id)}}}

    callback_event_emit(
        company=company, callback_type="subscription_added", body=body_for(other.pk)
    )
    assert CallbackEvent.objects.count() == 0
    callback_event_emit(
        company=company, callback_type="subscription_added", body=body_for(wanted.pk)
    )
    callback_event_emit(
        company=company,
        callback_type="subscription_added",
        body=lambda v: {},
        scope={"list_id": wanted.pk},
    )
    assert CallbackEvent.objects.count() == 2


@pytest.mark.django_db
def test_person_added_payload_in_v1_format(company, standard_fields):
    registration = CallbackRegistrationFactory(company=company, api_version=1)
    person, _ = person_add(
        company=company,
        mdn="+12995551234",
        external_person_id="EXT542342",
        custom_fields={"first_name": "John"},
    )
    event = CallbackEvent.objects.get()
    payload = payload_of(event, registration)
    assert list(payload)[:6] == [
        "callback_id",
        "event_id",
        "callback_type",
        "event_type",
        "event_date",
        "delivery_attempt",
    ]
    assert payload["callback_id"] == str(registration.callback_id)
    assert payload["event_id"] == str(event.id)
    assert payload["callback_type"] == payload["event_type"] == "person_added"
    assert payload["delivery_attempt"] == "1"
    assert payload["event_date"].endswith("Z") and "T" in payload["event_date"]
    assert payload["person"]["mobile_phone"]["mdn"] == "2995551234"
    assert payload["person"]["external_person_id"] == "EXT542342"
    assert payload["person"]["person_id"] == person.pk
    assert payload["person"]["custom_fields"] == {"first_name": "John"}
    assert payload["person"]["url"] == f"/companies/ACME/mobiledb/persons/{person.pk}"


@pytest.mark.django_db
def test_person_updated_payload_in_v2_format(company):
    registration = CallbackRegistrationFactory(
        company=company, callback_type="person_updated", api_version=2
    )
    person, _ = person_add(company=company, mdn="+12995551234")
    person_update(person=person, external_person_id="EXT1")
    event = CallbackEvent.objects.get()
    payload = payload_of(event, registration, attempt=3)
    assert payload["callback_type"] == "person_updated"
    assert payload["delivery_attempt"] == "3"
    assert payload["person"]["mobile_phone"]["mdn"] == "+12995551234"
    assert payload["person"]["external_person_id"] == "EXT1"
    assert event.person_id == person.pk


@pytest.mark.django_db
def test_bulk_emission_writes_every_event(company):
    CallbackRegistrationFactory(company=company)
    persons = [PersonFactory(company=company) for _ in range(5)]
    written = person_events_emit_bulk(
        company=company, callback_type="person_added", persons=persons
    )
    assert written == 5
    assert CallbackEvent.objects.count() == CallbackDelivery.objects.count() == 5
    assert set(CallbackEvent.objects.values_list("person_id", flat=True)) == {p.pk for p in persons}


@pytest.mark.django_db
def test_bulk_emission_without_registration_does_not_consume_items(company):
    def items():
        raise AssertionError("consumed")
        yield

    assert (
        callback_events_emit_bulk(company=company, callback_type="person_add", items=items()) == 0
    )
