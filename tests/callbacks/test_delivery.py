"""Delivery against a real local HTTP receiver answering scripted codes (seeds/003)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from callbacks.models import CallbackDelivery, DeliveryAttempt
from callbacks.services.delivery import deliveries_deliver_batch
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import PersonFactory

from .receiver import Answer

State = CallbackDelivery.State
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def emit(company, **kwargs):
    person = PersonFactory(company=company, **kwargs)
    person_added_emit(person)
    return CallbackDelivery.objects.latest("id")


def make_due(delivery):
    CallbackDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def run():
    return deliveries_deliver_batch(enqueue_more=False)


@pytest.mark.django_db
def test_2xx_is_delivered_once_with_the_protocol_headers(registration, receiver):
    delivery = emit(registration.company)
    assert run() == 1
    assert run() == 0
    assert len(receiver.received) == 1
    request = receiver.received[0]
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED and delivery.last_status == 200
    assert request.method == "POST"
    assert request.headers["X-Event-Id"] == str(delivery.event_id)
    assert request.headers["X-Company-Id"] == "ACME"
    assert request.headers["X-Callback-Id"] == str(registration.callback_id)
    assert request.headers["X-Delivery-Attempts"] == "1"
    assert request.headers["X-Event-Type"] == "person_added"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body)["delivery_attempt"] == "1"


@pytest.mark.django_db
def test_signature_verifies_with_the_standard_webhooks_library(registration, receiver):
    emit(registration.company)
    run()
    request = receiver.received[0]
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["event_id"] == request.headers["X-Event-Id"] == request.headers["webhook-id"]


@pytest.mark.django_db
def test_tampered_body_fails_verification(registration, receiver):
    emit(registration.company)
    run()
    request = receiver.received[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(request.body.replace(b"ACME", b"EVIL"), request.headers)


@pytest.mark.django_db
def test_5xx_is_retried_with_same_event_id_and_rising_attempt_count(registration, receiver):
    receiver.answer(500, 503)
    delivery = emit(registration.company)
    for _ in range(3):
        run()
        delivery.refresh_from_db()
        make_due(delivery)
    assert delivery.state == State.DELIVERED
    ids = {r.headers["X-Event-Id"] for r in receiver.received}
    assert ids == {str(delivery.event_id)}
    assert [r.headers["X-Delivery-Attempts"] for r in receiver.received] == ["1", "2", "3"]
    assert [json.loads(r.body)["delivery_attempt"] for r in receiver.received] == ["1", "2", "3"]
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 3


@pytest.mark.django_db
def test_retry_waits_in_the_database_on_the_registration_scheme(registration, receiver):
    registration.retry_intervals = [100, 1000]
    registration.save()
    receiver.answer(500)
    delivery = emit(registration.company)
    before = timezone.now()
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING and delivery.attempts == 1
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 89 <= wait <= 111  # 100 s with +-10% jitter
    assert run() == 0  # not due yet


@pytest.mark.django_db
def test_timeout_is_retried(registration, receiver, settings):
    settings.CALLBACK_TIMEOUT_SECONDS = 0.2
    receiver.answer(Answer(delay=0.6))
    delivery = emit(registration.company)
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert "timeout" in delivery.last_error
    make_due(delivery)
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert [r.headers["X-Delivery-Attempts"] for r in receiver.received] == ["1", "2"]


@pytest.mark.django_db
def test_retries_used_up_go_to_the_failure_queue_and_email(registration, receiver):
    registration.retry_intervals = [1, 1]
    registration.save()
    receiver.default = Answer(status=502)
    delivery = emit(registration.company)
    for _ in range(3):
        make_due(delivery)
        run()
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED and delivery.attempts == 3
    assert len(receiver.received) == 3
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_400_is_not_retried_and_the_customer_is_emailed(registration, receiver):
    receiver.answer(Answer(status=400, body=b"bad event"))
    delivery = emit(registration.company)
    run()
    delivery.refresh_from_db()
    make_due(delivery)
    assert run() == 0
    assert delivery.state == State.FAILED and delivery.last_status == 400
    assert len(receiver.received) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com"]
    assert str(delivery.event_id) in message.body


@pytest.mark.django_db
def test_failure_emails_are_throttled_per_registration(registration, receiver):
    receiver.default = Answer(status=410)
    emit(registration.company)
    run()
    emit(registration.company)
    run()
    assert CallbackDelivery.objects.filter(state=State.FAILED).count() == 2
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_429_retry_after_is_honoured(registration, receiver):
    registration.retry_intervals = [3000, 3000]
    registration.save()
    receiver.answer(Answer(status=429, headers={"Retry-After": "7"}))
    delivery = emit(registration.company)
    before = timezone.now()
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert 6 <= (delivery.next_attempt_at - before).total_seconds() <= 8
    make_due(delivery)
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED


@pytest.mark.django_db
def test_408_is_transient(registration, receiver):
    receiver.answer(408)
    delivery = emit(registration.company)
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING and delivery.last_status == 408


@pytest.mark.django_db
def test_redirect_is_not_followed_and_is_retried(registration, receiver):
    receiver.answer(Answer(status=302, headers={"Location": receiver.url + "/elsewhere"}))
    delivery = emit(registration.company)
    run()
    delivery.refresh_from_db()
    assert [r.path for r in receiver.received] == ["/hook"]
    assert delivery.state == State.PENDING and delivery.last_status == 302
    assert "not followed" in delivery.last_error


@pytest.mark.django_db
def test_response_excerpt_is_capped(registration, receiver):
    receiver.answer(Answer(status=200, body=b"x" * 5000))
    emit(registration.company)
    run()
    attempt = DeliveryAttempt.objects.get()
    assert len(attempt.response_excerpt) == 1024
    assert attempt.succeeded and attempt.status_code == 200


@pytest.mark.django_db
def test_basic_auth_and_extra_headers_are_sent(company, receiver):
    from tests.factories import CallbackRegistrationFactory

    CallbackRegistrationFactory(
        company=company,
        url=receiver.url,
        method="PUT",
        content_type="text/json",
        basic_auth={"username": "crm", "password": "s3cret"},
        headers={"X-Tenant": "t1"},
    )
    emit(company)
    run()
    request = receiver.received[0]
    assert request.method == "PUT"
    assert request.headers["Content-Type"] == "text/json"
    assert request.headers["Authorization"] == "Basic Y3JtOnMzY3JldA=="
    assert request.headers["X-Tenant"] == "t1"


@pytest.mark.django_db
def test_connection_refused_is_retried(company):
    from tests.factories import CallbackRegistrationFactory

    CallbackRegistrationFactory(company=company, url="http://127.0.0.1:9/closed")
    delivery = emit(company)
    run()
    delivery.refresh_from_db()
    assert delivery.state == State.PENDING
    assert "connection error" in delivery.last_error


@pytest.mark.django_db
def test_failing_destination_goes_down_then_recovers_without_losing_events(
    registration, receiver, settings
):
    settings.CALLBACK_DOWN_AFTER_FAILURES = 2
    settings.CALLBACK_DOWN_BASE_SECONDS = 60
    receiver.default = Answer(status=503)
    deliveries = [emit(registration.company) for _ in range(5)]
    run()
    registration.refresh_from_db()
    assert registration.is_down()
    assert len(receiver.received) == 2  # the rest were suspended, not sent
    assert all(d.state == State.PENDING for d in CallbackDelivery.objects.all())
    assert CallbackDelivery.objects.filter(next_attempt_at__lt=registration.down_until).count() == 0
    assert run() == 0  # nothing is due while down
    # The down period ends; the destination is back.
    receiver.default = Answer(status=200)
    CallbackDelivery.objects.update(next_attempt_at=timezone.now())
    CallbackRegistration = type(registration)
    CallbackRegistration.objects.update(down_until=timezone.now() - timedelta(seconds=1))
    run()
    registration.refresh_from_db()
    assert not registration.is_down() and registration.consecutive_failures == 0
    assert registration.last_success_at is not None
    states = set(
        CallbackDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).values_list(
            "state", flat=True
        )
    )
    assert states == {State.DELIVERED}


@pytest.mark.django_db
def test_down_periods_grow_while_the_destination_keeps_failing(registration, receiver, settings):
    settings.CALLBACK_DOWN_AFTER_FAILURES = 1
    settings.CALLBACK_DOWN_BASE_SECONDS = 10
    receiver.default = Answer(status=500)
    periods = []
    for _ in range(3):
        emit(registration.company)
        type(registration).objects.update(down_until=timezone.now() - timedelta(seconds=1))
        CallbackDelivery.objects.update(next_attempt_at=timezone.now())
        started = timezone.now()
        run()
        registration.refresh_from_db()
        periods.append(round((registration.down_until - started).total_seconds()))
    assert periods == [10, 20, 40]


@pytest.mark.django_db
def test_events_for_a_down_destination_wait_for_it(registration, receiver):
    until = timezone.now() + timedelta(minutes=5)
    type(registration).objects.update(down_until=until)
    delivery = emit(registration.company)
    assert delivery.next_attempt_at == until
    assert run() == 0
    assert receiver.received == []
