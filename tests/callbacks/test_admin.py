"""The configuration screen: scoped to the staff user's companies, registering through the
services, test events, health, and redelivery from the failure queue."""

from __future__ import annotations

import pytest

from callbacks.models import CallbackDelivery, CallbackRegistration
from callbacks.services.delivery import deliveries_deliver_batch
from mobiledb.persons.callbacks import person_added_emit
from tests.factories import (
    CallbackRegistrationFactory,
    CompanyFactory,
    PersonFactory,
    UserFactory,
    staff_client,
)

from .receiver import Answer


@pytest.fixture
def staff(company):
    return staff_client(company, "callbacks", username="acme-staff")


def form_data(company, **overrides):
    data = {
        "company": company.pk,
        "callback_type": "person_added",
        "api_version": "2",
        "scope": "{}",
        "url": "http://127.0.0.1:9/hook",
        "method": "POST",
        "content_type": "application/json",
        "start_date_0": "2020-01-01",
        "start_date_1": "00:00:00",
        "retry_intervals_text": "5, 60",
        "notification_emails_text": "ops@example.com",
        "basic_auth_username": "crm",
        "basic_auth_password": "pw",
        "headers_text": "X-Tenant: t1",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_staff_sees_only_its_companies_registrations(staff, company):
    mine = CallbackRegistrationFactory(company=company, url="http://127.0.0.1:9/mine")
    theirs = CallbackRegistrationFactory(company=CompanyFactory(), url="http://127.0.0.1:9/theirs")
    page = staff.get("/admin/callbacks/callbackregistration/").content.decode()
    assert mine.url in page and theirs.url not in page
    assert staff.get(f"/admin/callbacks/callbackregistration/{theirs.pk}/change/").status_code in (
        302,
        404,
    )


@pytest.mark.django_db
def test_register_through_the_screen_shows_the_secret_once(staff, company):
    response = staff.post(
        "/admin/callbacks/callbackregistration/add/", form_data(company), follow=True
    )
    assert response.status_code == 200
    registration = CallbackRegistration.objects.get()
    assert registration.api_version == 2
    assert registration.retry_intervals == [5, 60]
    assert registration.secrets["basic_auth"] == {"username": "crm", "password": "pw"}
    assert registration.secrets["headers"] == {"X-Tenant": "t1"}
    assert registration.secrets["signing_secret"] in response.content.decode()


@pytest.mark.django_db
def test_screen_shows_service_errors_as_form_errors(staff, company, settings):
    CallbackRegistrationFactory(company=company)
    response = staff.post("/admin/callbacks/callbackregistration/add/", form_data(company))
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS = False
    response = staff.post(
        "/admin/callbacks/callbackregistration/add/",
        form_data(company, callback_type="person_updated"),
    )
    assert "private" in response.content.decode()
    assert CallbackRegistration.objects.count() == 1


@pytest.mark.django_db
def test_staff_cannot_register_for_another_company(staff):
    other = CompanyFactory()
    response = staff.post("/admin/callbacks/callbackregistration/add/", form_data(other))
    assert response.status_code == 200  # the form refuses the choice
    assert CallbackRegistration.objects.count() == 0


@pytest.mark.django_db
def test_change_page_shows_health_and_recent_attempts(staff, registration, receiver):
    receiver.answer(Answer(status=500, body=b"receiver exploded"))
    person_added_emit(PersonFactory(company=registration.company))
    deliveries_deliver_batch(enqueue_more=False)
    page = staff.get(f"/admin/callbacks/callbackregistration/{registration.pk}/change/")
    text = page.content.decode()
    assert "receiver exploded" in text
    assert "failure rate 100.0%" in text
    assert "Send test event" in text


@pytest.mark.django_db
def test_send_test_event_button_queues_a_test_event(staff, registration, receiver):
    staff.post(f"/admin/callbacks/callbackregistration/{registration.pk}/send-test/")
    delivery = CallbackDelivery.objects.get()
    assert delivery.event.is_test
    deliveries_deliver_batch(enqueue_more=False)
    assert receiver.received[0].headers["X-Event-Id"] == str(delivery.event_id)


@pytest.mark.django_db
def test_redeliver_many_from_the_failure_queue(staff, registration, receiver):
    receiver.default = Answer(status=404)
    for _ in range(2):
        person_added_emit(PersonFactory(company=registration.company))
    deliveries_deliver_batch(enqueue_more=False)
    failed = list(CallbackDelivery.objects.filter(state="failed"))
    assert len(failed) == 2
    queue = staff.get("/admin/callbacks/callbackdelivery/?state__exact=failed")
    assert queue.status_code == 200
    staff.post(
        "/admin/callbacks/callbackdelivery/",
        {"action": "redeliver", "_selected_action": [d.pk for d in failed]},
    )
    receiver.default = Answer(status=200)
    deliveries_deliver_batch(enqueue_more=False)
    assert set(CallbackDelivery.objects.values_list("state", flat=True)) == {"delivered"}
    event_ids = [r.headers["X-Event-Id"] for r in receiver.received]
    assert sorted(event_ids[:2]) == sorted(event_ids[2:])  # same event ids again
    assert staff.get(f"/admin/callbacks/callbackdelivery/{failed[0].pk}/change/").status_code == 200


@pytest.mark.django_db
def test_events_are_searchable_by_person(staff, registration):
    person = PersonFactory(company=registration.company)
    person_added_emit(person)
    page = staff.get(f"/admin/callbacks/callbackevent/?q={person.pk}")
    assert page.status_code == 200
    assert str(person.callback_events.get().id) in page.content.decode()
    assert staff.get("/admin/callbacks/callbackevent/?q=not-a-number").status_code == 200


@pytest.mark.django_db
def test_person_callback_event_inline_lists_the_events(rf, registration):
    from django.contrib.admin.sites import site

    from callbacks.admin import PersonCallbackEventInline
    from mobiledb.models import Person

    person = PersonFactory(company=registration.company)
    person_added_emit(person)
    inline = PersonCallbackEventInline(Person, site)
    request = rf.get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    events = list(inline.get_queryset(request).filter(person=person))
    assert len(events) == 1
    assert "pending" in inline.delivery_states(events[0])
