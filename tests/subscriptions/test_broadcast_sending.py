"""Sending a broadcast: audience, batches, counts, cancel mid-send, failure, scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mobiledb.broadcasts.messaging import MessageBackend
from mobiledb.broadcasts.services import (
    broadcast_cancel,
    broadcast_send_next_batch,
    broadcast_start,
    broadcasts_start_due,
)
from mobiledb.broadcasts.tasks import broadcast_send_batch
from mobiledb.broadcasts.tasks import broadcasts_start_due as start_task
from mobiledb.models import Broadcast, OutboundMessage, Person, Subscription
from tests.factories import PersonFactory, SubscriptionListFactory
from tests.subscriptions.helpers import SubscriptionFactory

pytestmark = pytest.mark.django_db


def make_broadcast(company, lists, *, template="Sale!", filters=None, due=True) -> Broadcast:
    moment = timezone.now() - timedelta(seconds=1) if due else timezone.now() + timedelta(hours=1)
    broadcast = Broadcast.objects.create(
        company=company,
        name="b",
        send_scheduled_date=moment,
        message_template=template,
        filters=filters or {},
    )
    broadcast.source_lists.set(lists)
    return broadcast


def send_all(broadcast: Broadcast, batch_size: int) -> int:
    batches = 0
    assert broadcast_start(broadcast_id=broadcast.pk)
    while True:
        batches += 1
        if not broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=batch_size):
            break
    broadcast.refresh_from_db()
    return batches


@pytest.fixture
def audience(company):
    """Two lists: 30 on A, 20 on B of whom 10 are also on A; 5 opted out of A only,
    3 opted out of everything, 2 with no MDN."""
    list_a = SubscriptionListFactory(company=company)
    list_b = SubscriptionListFactory(company=company)
    persons = [PersonFactory(company=company) for _ in range(48)]
    for person in persons[:30]:
        SubscriptionFactory(person=person, subscription_list=list_a)
    for person in persons[20:40]:
        SubscriptionFactory(person=person, subscription_list=list_b)
    now = timezone.now()
    # 5 on A only opt out of A -> no message
    Subscription.objects.filter(person__in=persons[:5], subscription_list=list_a).update(
        opt_out_date=now, opt_out_reason="user_opt_out"
    )
    # 3 on A and B opt out of everything -> no message
    Subscription.objects.filter(person__in=persons[20:23]).update(
        opt_out_date=now, opt_out_reason="user_opt_out"
    )
    # 2 subscribers without an MDN
    for _ in range(2):
        no_phone = PersonFactory(company=company, mdn=None)
        SubscriptionFactory(person=no_phone, subscription_list=list_a)
    opted_out = {p.pk for p in persons[:5]} | {p.pk for p in persons[20:23]}
    expected = {p.pk for p in persons[:40]} - opted_out
    return list_a, list_b, expected, opted_out


def test_broadcast_reaches_each_active_subscriber_once_and_no_one_opted_out(company, audience):
    list_a, list_b, expected, opted_out = audience
    broadcast = make_broadcast(company, [list_a, list_b])
    batches = send_all(broadcast, batch_size=7)
    assert broadcast.status == Broadcast.Status.SENT
    assert broadcast.audience_count == broadcast.sent_count == len(expected) == 32
    recipients = list(
        OutboundMessage.objects.filter(broadcast=broadcast).values_list("person_id", flat=True)
    )
    assert len(recipients) == len(set(recipients)) == 32  # deduplicated per person
    assert set(recipients) == expected
    assert not set(recipients) & opted_out
    assert batches == 5  # ceil(32 / 7)
    assert broadcast.completed_at is not None


def test_filters_and_template_use_custom_fields(standard_fields, audience):
    company = standard_fields
    list_a, list_b, expected, _ = audience
    gold = sorted(expected)[:4]
    for pk in gold:
        Person.objects.filter(pk=pk).update(
            custom_fields={"first_name": "Ana", "tier": "gold", "interests": ["shoes", "bags"]}
        )
    Person.objects.filter(pk=sorted(expected)[5]).update(custom_fields={"tier": "silver"})
    broadcast = make_broadcast(
        company,
        [list_a, list_b],
        template="Hi {{first_name}} ({{tier}}; {{interests}})",
        filters={"tier": "gold", "interests": ["bags"]},
    )
    send_all(broadcast, batch_size=100)
    messages = OutboundMessage.objects.filter(broadcast=broadcast)
    assert sorted(messages.values_list("person_id", flat=True)) == gold
    assert messages.first().body == "Hi Ana (Gold; Shoes, Bags)"


def test_cancel_mid_send_stops_after_the_current_batch(company, audience):
    list_a, list_b, _, _ = audience
    broadcast = make_broadcast(company, [list_a, list_b])
    assert broadcast_start(broadcast_id=broadcast.pk)
    assert broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=10)
    broadcast_cancel(broadcast=broadcast, only_scheduled=False)
    assert not broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=10)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.CANCELED
    assert broadcast.sent_count == 10
    assert OutboundMessage.objects.filter(broadcast=broadcast).count() == 10


def test_person_opting_out_mid_send_gets_nothing(company, audience):
    list_a, list_b, expected, _ = audience
    broadcast = make_broadcast(company, [list_a, list_b])
    broadcast_start(broadcast_id=broadcast.pk)
    broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=10)
    last = max(expected)
    Subscription.objects.filter(person_id=last).update(opt_out_date=timezone.now())
    while broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=10):
        pass
    assert not OutboundMessage.objects.filter(broadcast=broadcast, person_id=last).exists()
    broadcast.refresh_from_db()
    assert broadcast.sent_count == len(expected) - 1


def test_a_batch_is_claimed_once(company, audience):
    list_a, list_b, expected, _ = audience
    broadcast = make_broadcast(company, [list_a, list_b])
    broadcast_start(broadcast_id=broadcast.pk)
    assert not broadcast_start(broadcast_id=broadcast.pk)  # already started
    Broadcast.objects.filter(pk=broadcast.pk).update(cursor_person_id=0)
    stale = Broadcast.objects.get(pk=broadcast.pk)
    broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=5)
    # a duplicate delivery of the same task re-reads the cursor: it sends the *next* batch
    broadcast_send_next_batch(broadcast_id=stale.pk, batch_size=5)
    recipients = list(OutboundMessage.objects.values_list("person_id", flat=True))
    assert len(recipients) == len(set(recipients)) == 10


class RefusingBackend(MessageBackend):
    def send_messages(self, messages):
        raise ConnectionError("gateway down")


def test_backend_failure_marks_the_broadcast_failed(company, audience, settings):
    settings.MESSAGE_BACKEND = f"{__name__}.RefusingBackend"
    list_a, list_b, expected, _ = audience
    broadcast = make_broadcast(company, [list_a, list_b])
    broadcast_start(broadcast_id=broadcast.pk)
    assert not broadcast_send_next_batch(broadcast_id=broadcast.pk, batch_size=10)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.FAILED
    assert "gateway down" in broadcast.error
    assert broadcast.sent_count == 0 and broadcast.failed_count == len(expected)
    assert not OutboundMessage.objects.exists()


def test_scheduler_starts_only_due_broadcasts(
    company, audience, django_capture_on_commit_callbacks
):
    list_a, _, _, _ = audience
    due = make_broadcast(company, [list_a])
    later = make_broadcast(company, [list_a], due=False)
    with django_capture_on_commit_callbacks() as callbacks:
        assert broadcasts_start_due() == [due.pk]
    assert len(callbacks) == 1  # the first batch is queued after commit
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == Broadcast.Status.IN_PROGRESS
    assert later.status == Broadcast.Status.SCHEDULED


def test_empty_audience_completes_with_zero(company):
    empty = SubscriptionListFactory(company=company)
    broadcast = make_broadcast(company, [empty])
    send_all(broadcast, batch_size=10)
    assert broadcast.status == Broadcast.Status.SENT
    assert broadcast.sent_count == 0


def test_broadcast_tasks_run_on_the_messaging_queue():
    from vibesweb.celery import app

    for task in (broadcast_send_batch, start_task):
        assert app.amqp.router.route({}, task.name)["queue"].name == "messaging"


def test_scheduler_entries_are_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"mobiledb.broadcasts_start_due", "campaigns.participations_expire"} <= tasks
