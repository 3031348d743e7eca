"""The callback screens say what is true in a marketer's words (issue 14): health follows
the failure rate, attempt numbers go on after a redeliver and the preview shows what is
sent, a delivery cannot be edited, no database or Python text on screen."""

from __future__ import annotations

import re

import pytest

from callbacks.admin import error_summary
from callbacks.models import CallbackDelivery, DeliveryAttempt
from callbacks.services.delivery import deliveries_deliver_batch
from callbacks.services.operations import deliveries_redeliver
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import CallbackRegistrationFactory, PersonFactory, staff_client

from .receiver import Answer
from .test_admin import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(company):
    return staff_client(company, "callbacks", username="acme-staff")


def text_of(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def fail_once(registration, receiver, status=404) -> CallbackDelivery:
    receiver.default = Answer(status=status)
    person_added_emit(PersonFactory(company=registration.company))
    deliveries_deliver_batch(enqueue_more=False)
    return CallbackDelivery.objects.get()


def test_health_is_failing_at_a_100_percent_failure_rate(staff, registration, receiver):
    fail_once(registration, receiver)

    listing = text_of(staff.get("/admin/callbacks/callbackregistration/"))
    page = text_of(staff.get(f"/admin/callbacks/callbackregistration/{registration.pk}/change/"))

    assert "failing (100% of attempts)" in listing
    assert "failing (100% of attempts)" in page
    assert " up " not in listing


def test_health_is_up_when_attempts_succeed(staff, registration, receiver):
    receiver.default = Answer(status=200)
    person_added_emit(PersonFactory(company=registration.company))
    deliveries_deliver_batch(enqueue_more=False)

    assert " up " in text_of(staff.get("/admin/callbacks/callbackregistration/"))


def test_redelivered_attempts_are_numbered_on_and_the_preview_matches_what_is_sent(
    staff, registration, receiver
):
    delivery = fail_once(registration, receiver)
    deliveries_redeliver(deliveries=CallbackDelivery.objects.all())
    preview = text_of(staff.get(f"/admin/callbacks/callbackdelivery/{delivery.pk}/change/"))
    assert "Next attempt (attempt 2) will send:" in preview
    assert '"delivery_attempt": "2"' in preview.replace("&quot;", '"')

    receiver.default = Answer(status=200)
    deliveries_deliver_batch(enqueue_more=False)

    sent = receiver.received[-1]
    assert sent.headers["X-Delivery-Attempts"] == "2"
    assert '"delivery_attempt": "2"' in sent.body.decode().replace('":"', '": "')
    page = text_of(staff.get(f"/admin/callbacks/callbackdelivery/{delivery.pk}/change/"))
    assert "Attempt 2 sent:" in page
    assert list(DeliveryAttempt.objects.order_by("number").values_list("number", flat=True)) == [
        1,
        2,
    ]
    assert "attempt 1 of" not in page and f"of {delivery.pk}" not in page


def test_a_delivery_has_no_editable_field(staff, registration, receiver):
    delivery = fail_once(registration, receiver)
    page = staff.get(f"/admin/callbacks/callbackdelivery/{delivery.pk}/change/").content.decode()
    assert not re.search(r'<input[^>]+name="created_at', page)
    assert "Created at" in page  # shown, read-only


def test_a_second_open_registration_of_a_type_is_a_sentence_not_a_constraint(
    staff, company, registration
):
    other = CallbackRegistrationFactory(company=company, callback_type="person_updated")
    response = staff.post(
        f"/admin/callbacks/callbackregistration/{other.pk}/change/",
        form_data(company, callback_type="person_added", url=other.url),
    )
    page = text_of(response)
    assert response.status_code == 200
    assert "already registered" in page
    assert "onstraint" not in page and "callbackregistration_one_open_per_type" not in page


def test_the_failure_queue_shows_a_short_human_error(staff, registration, receiver):
    receiver.stop()  # nothing listens: connection refused
    delivery = fail_once(registration, receiver)
    delivery.refresh_from_db()
    assert delivery.state == "pending" and "connection error" in delivery.last_error
    CallbackDelivery.objects.update(state="failed")

    queue = staff.get("/admin/callbacks/callbackdelivery/?state__exact=failed").content.decode()

    assert ">connection refused<" in queue
    assert "MaxRetryError" not in re.sub(r'title="[^"]*"', "", queue)


def test_error_summaries_are_one_short_line():
    raw = "connection error: ConnectionError: HTTPConnectionPool(host='x', port=1): Max retries"
    assert error_summary(raw) == "could not connect"
    assert error_summary("HTTP 500") == "HTTP 500"
    assert len(error_summary("x" * 400)) == 80
