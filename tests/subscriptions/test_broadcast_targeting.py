"""Broadcast targeting as the platform writes it: `targeting.filters` as an array of filter
objects, and `send_schedule` by_time_zone, each recipient texted at the same local time,
never in quiet hours (issue 13, finding 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from mobiledb.broadcasts.services import broadcast_send_next_batch, broadcasts_start_due
from mobiledb.models import Broadcast, OutboundMessage
from mobiledb.persons.custom_fields import custom_field_create
from tests.conftest import error_codes
from tests.factories import PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import SubscriptionFactory
from vibesweb.celery import app as celery_app
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db
BROADCASTS = "/companies/ACME/mobiledb/broadcasts"
SEND_DAY = "2030-06-14"  # summer: Chicago is UTC-5, Tokyo UTC+9


@pytest.fixture
def main_list(company):
    return SubscriptionListFactory(company=company)


@pytest.fixture
def clock(monkeypatch):
    """Sets what `timezone.now()` answers, for services and auto_now fields alike."""

    class Clock:
        moment = timezone.now()

        def set(self, text: str) -> None:
            self.moment = datetime.fromisoformat(text).replace(tzinfo=UTC)

    current = Clock()
    monkeypatch.setattr(timezone, "now", lambda: current.moment)
    return current


@pytest.fixture
def eager():
    """Queued broadcast batches run at once, as a worker would run them."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def subscriber(company, main_list, **fields):
    person = PersonFactory(company=company, **fields)
    SubscriptionFactory(person=person, subscription_list=main_list)
    return person


def texted(broadcast_id: int) -> set[int]:
    return set(
        OutboundMessage.objects.filter(broadcast_id=broadcast_id).values_list(
            "person_id", flat=True
        )
    )


# --- targeting.filters ------------------------------------------------------------------------


def test_filters_are_taken_and_returned_as_the_documented_array(api, standard_fields, main_list):
    filters = [
        {"name": "tier", "selector": "=", "value": ["gold", "silver"]},
        {"name": "points", "selector": ">=", "value": ["10"]},
    ]
    body = {
        "name": "Sale",
        "send_scheduled_date": "2030-01-01T12:00:00Z",
        "targeting": {
            "message_template": "Sale!",
            "source_lists": [str(main_list.pk)],
            "filters": filters,
        },
    }
    response = api.post(f"{BROADCASTS}/", body)
    assert response.status_code == 201, response.content
    assert response.json()["targeting"]["filters"] == filters
    assert response.json()["send_schedule"] == {"method": "by_date"}
    assert api.get(response.json()["url"]).json()["targeting"]["filters"] == filters


@pytest.mark.parametrize(
    "filters",
    [
        [{"name": "nope", "value": ["1"]}],
        [{"name": "tier", "selector": "=", "value": ["platinum"]}],
        [{"name": "tier", "selector": "almost", "value": ["gold"]}],
        [{"name": "tier", "selector": ">", "value": ["gold"]}],
        [{"name": "points", "selector": "=", "value": ["many"]}],
        [{"selector": "=", "value": ["gold"]}],
        "tier=gold",
    ],
)
def test_a_bad_filter_answers_400(api, standard_fields, main_list, filters):
    body = {
        "name": "Sale",
        "send_scheduled_date": "2030-01-01T12:00:00Z",
        "targeting": {"message_template": "x", "source_lists": [main_list.pk], "filters": filters},
    }
    response = api.post(BROADCASTS, body)
    assert response.status_code == 400, response.content
    assert Broadcast.objects.count() == 0


def test_each_selector_narrows_the_recipients(company, standard_fields, main_list, clock):
    gold = subscriber(company, main_list, custom_fields={"tier": "gold", "points": 5})
    silver = subscriber(
        company, main_list, custom_fields={"tier": "silver", "points": 50, "first_name": "Ann"}
    )
    bags = subscriber(company, main_list, custom_fields={"interests": ["bags", "shoes"]})
    cases = {
        "=": ([{"name": "tier", "selector": "=", "value": ["gold", "silver"]}], {gold, silver}),
        "!=": ([{"name": "tier", "selector": "!=", "value": ["gold"]}], {silver}),
        ">=": ([{"name": "points", "selector": ">=", "value": ["10"]}], {silver}),
        "starts_with": (
            [{"name": "first_name", "selector": "starts_with", "value": ["A"]}],
            {silver},
        ),
        "multi": ([{"name": "interests", "value": ["shoes"]}], {bags}),
        "older form": ({"tier": "gold"}, {gold}),
    }
    for name, (filters, expected) in cases.items():
        broadcast = Broadcast.objects.create(
            company=company,
            name=name,
            send_scheduled_date=clock.moment - timedelta(seconds=1),
            message_template="x",
            filters=filters,
        )
        broadcast.source_lists.set([main_list])
        broadcasts_start_due(now=clock.moment)
        while broadcast_send_next_batch(broadcast_id=broadcast.pk):
            pass
        assert texted(broadcast.pk) == {p.pk for p in expected}, name


# --- send_schedule by_time_zone -------------------------------------------------------------


def time_zone_body(main_list, **schedule) -> dict:
    return {
        "name": "Local 17:30",
        "send_schedule": {
            "method": "by_time_zone",
            "send_date": SEND_DAY,
            "send_time": "17:30",
            **schedule,
        },
        "targeting": {"message_template": "Hello", "source_lists": [main_list.pk]},
    }


def test_a_time_zone_broadcast_starts_with_the_first_time_zone(api, company, main_list):
    response = api.post(BROADCASTS, time_zone_body(main_list, default_time_zone="America/Chicago"))
    assert response.status_code == 201, response.content
    created = response.json()
    # 17:30 at UTC+14 (the earliest zone) is 03:30 UTC
    assert created["send_scheduled_date"] == f"{SEND_DAY}T03:30:00Z"
    assert created["send_schedule"] == {
        "method": "by_time_zone",
        "send_date": SEND_DAY,
        "send_time": "17:30",
        "field_name": None,
        "default_time_zone": "America/Chicago",
    }
    assert api.get(created["url"]).json()["send_schedule"] == created["send_schedule"]


@pytest.mark.parametrize(
    ("schedule", "code"),
    [
        ({"send_time": "23:00"}, ErrorCode.INVALID_VALUE),  # inside the quiet hours
        ({"send_time": "5pm"}, ErrorCode.INVALID_VALUE),
        ({"send_date": "14/06/2030"}, ErrorCode.INVALID_VALUE),
        ({"send_date": "2001-01-01"}, ErrorCode.INVALID_VALUE),  # in the past
        ({"default_time_zone": "Mars/Olympus"}, ErrorCode.INVALID_VALUE),
        ({"field_name": "nope"}, ErrorCode.CUSTOM_FIELD_NOT_FOUND),
        ({"field_name": "points"}, ErrorCode.INVALID_VALUE),  # not a string field
        ({"method": "by_moon"}, ErrorCode.INVALID_VALUE),
    ],
)
def test_a_bad_send_schedule_answers_400(api, standard_fields, main_list, schedule, code):
    response = api.post(BROADCASTS, time_zone_body(main_list, **schedule))
    assert response.status_code == 400, response.content
    assert error_codes(response) == [code]


def test_each_recipient_is_texted_at_the_local_send_time(
    api, company, main_list, clock, eager, django_capture_on_commit_callbacks
):
    tokyo = subscriber(company, main_list, timezone="Asia/Tokyo")
    chicago = subscriber(company, main_list, timezone="America/Chicago")
    winnipeg = subscriber(company, main_list, timezone="America/Winnipeg")  # Chicago's hour
    unknown = subscriber(company, main_list, timezone=None)
    bogus = subscriber(company, main_list, timezone="Not/AZone")
    clock.set("2030-06-01T00:00:00")
    broadcast_id = int(api.post(BROADCASTS, time_zone_body(main_list)).json()["id"])

    def sweep_at(moment: str) -> set[int]:
        clock.set(moment)
        with django_capture_on_commit_callbacks(execute=True):
            broadcasts_start_due()
        return texted(broadcast_id)

    assert sweep_at(f"{SEND_DAY}T03:31:00") == set()  # started: nobody's 17:30 yet
    assert Broadcast.objects.get(pk=broadcast_id).status == "in_progress"
    assert sweep_at(f"{SEND_DAY}T08:29:00") == set()
    assert sweep_at(f"{SEND_DAY}T08:31:00") == {tokyo.pk}  # 17:30 in Tokyo
    # the default zone (UTC here) takes the persons without a valid one
    assert sweep_at(f"{SEND_DAY}T17:31:00") == {tokyo.pk, unknown.pk, bogus.pk}
    assert sweep_at(f"{SEND_DAY}T22:31:00") == {tokyo.pk, unknown.pk, bogus.pk} | {
        chicago.pk,
        winnipeg.pk,
    }
    broadcast = Broadcast.objects.get(pk=broadcast_id)
    assert broadcast.status == "sent"
    assert broadcast.audience_count == broadcast.sent_count == 5
    assert OutboundMessage.objects.filter(broadcast_id=broadcast_id).count() == 5


def test_the_time_zone_may_come_from_a_custom_field(
    api, company, main_list, clock, eager, django_capture_on_commit_callbacks
):
    custom_field_create(company=company, name="tz", data_type="string")
    company.refresh_from_db()
    tokyo = subscriber(
        company, main_list, timezone="America/Chicago", custom_fields={"tz": "Asia/Tokyo"}
    )
    clock.set("2030-06-01T00:00:00")
    body = time_zone_body(main_list, field_name="tz", default_time_zone="America/Chicago")
    broadcast_id = int(api.post(BROADCASTS, body).json()["id"])
    clock.set(f"{SEND_DAY}T08:31:00")
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts_start_due()
        broadcasts_start_due()
    assert texted(broadcast_id) == {tokyo.pk}


def test_a_pass_running_late_waits_for_the_end_of_quiet_hours(
    api, company, main_list, clock, eager, django_capture_on_commit_callbacks
):
    chicago = subscriber(company, main_list, timezone="America/Chicago")
    clock.set("2030-06-01T00:00:00")
    body = time_zone_body(main_list, send_time="20:30", default_time_zone="America/Chicago")
    broadcast_id = int(api.post(BROADCASTS, body).json()["id"])
    clock.set(f"{SEND_DAY}T06:31:00")
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts_start_due()  # starts; Chicago's 20:30 is 01:30 UTC the next day
    # the workers were down until 22:10 in Chicago (03:10 UTC): quiet hours, nothing sent
    clock.set("2030-06-15T03:10:00")
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts_start_due()
    assert texted(broadcast_id) == set()
    clock.set("2030-06-15T13:01:00")  # 08:01 in Chicago
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts_start_due()
    assert texted(broadcast_id) == {chicago.pk}


def test_a_person_whose_zone_changes_mid_broadcast_is_texted_once(
    api, company, main_list, clock, eager, django_capture_on_commit_callbacks
):
    mover = subscriber(company, main_list, timezone="Asia/Tokyo")
    subscriber(company, main_list, timezone="America/Chicago")
    clock.set("2030-06-01T00:00:00")
    body = time_zone_body(main_list, default_time_zone="America/Chicago")
    broadcast_id = int(api.post(BROADCASTS, body).json()["id"])
    for moment in (f"{SEND_DAY}T03:31:00", f"{SEND_DAY}T08:31:00"):
        clock.set(moment)
        with django_capture_on_commit_callbacks(execute=True):
            broadcasts_start_due()
    mover.timezone = "America/Chicago"
    mover.save()
    clock.set(f"{SEND_DAY}T22:31:00")
    with django_capture_on_commit_callbacks(execute=True):
        broadcasts_start_due()
    assert OutboundMessage.objects.filter(broadcast_id=broadcast_id, person=mover).count() == 1
    assert Broadcast.objects.get(pk=broadcast_id).status == "sent"
