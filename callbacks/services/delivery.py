"""Delivering callback events: claim due deliveries, send them, record what happened.

Claiming is a conditional UPDATE of pending rows (with FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), so two workers never
send the same claim. Retries wait in the database (`next_attempt_at`), never in a broker
countdown; the periodic sweep re-opens claims of killed workers. At least once: a
worker killed after sending but before recording sends that event again.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from standardwebhooks import Webhook

from .. import http
from ..models import CallbackDelivery, CallbackRegistration, DeliveryAttempt
from ..payloads import callback_payload, encode_payload
from .events import enqueue_delivery_now
from .health import health_update
from .notifications import failures_notify

logger = logging.getLogger(__name__)
State = CallbackDelivery.State
_executor: ThreadPoolExecutor | None = None


@dataclass
class Sent:
    """One claimed delivery after its turn: `outcome` None means released unsent."""

    delivery: CallbackDelivery
    outcome: http.Outcome | None = None
    at: datetime = field(default_factory=timezone.now)


def deliveries_claim(*, limit: int) -> tuple[uuid.UUID, list[CallbackDelivery]]:
    """Claim up to `limit` due pending deliveries (oldest first); returns (token, rows).

    Each claimed row is in_flight with `claim_token`, `claimed_at` and its attempt count
    raised; rows another worker holds are skipped, never waited for.
    """
    token, now = uuid.uuid4(), timezone.now()
    with transaction.atomic():
        _relaxed_commit()
        due = (
            CallbackDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", flat=True)[:limit]
        )
        ids = list(due)
        if not ids:
            return token, []
        CallbackDelivery.objects.filter(id__in=ids, state=State.PENDING).update(
            state=State.IN_FLIGHT, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
        )
    claimed = list(CallbackDelivery.objects.filter(claim_token=token).select_related("event"))
    return token, _share_registrations(sorted(claimed, key=lambda d: d.next_attempt_at))


def _share_registrations(deliveries: list[CallbackDelivery]) -> list[CallbackDelivery]:
    """One registration object per registration (loaded once), shared by its deliveries,
    so health changes made while sending are seen by all of them."""
    ids = {delivery.registration_id for delivery in deliveries}
    registrations = CallbackRegistration.objects.select_related("company").in_bulk(ids)
    for delivery in deliveries:
        delivery.registration = registrations[delivery.registration_id]
    return deliveries


def _relaxed_commit() -> None:
    """On PostgreSQL, do not wait for the WAL flush of this bookkeeping transaction.

    Safe because delivery is at least once: if the server crashed and lost a claim or
    an outcome, the row is pending or in flight again and the event is simply re-sent.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def deliveries_deliver_batch(*, limit: int | None = None, enqueue_more: bool = True) -> int:
    """Claim one batch, send it, record the outcomes; returns how many were claimed.

    When the batch is full another delivery task is enqueued first, so other worker
    processes join in while a backlog lasts.
    """
    limit = limit or settings.CALLBACK_BATCH_SIZE
    token, deliveries = deliveries_claim(limit=limit)
    if not deliveries:
        return 0
    if enqueue_more and len(deliveries) == limit:
        enqueue_delivery_now()
    results = _send_all(deliveries)
    _record(token, results)
    return len(deliveries)


def deliveries_drain(*, seconds: float | None = None) -> int:
    """Deliver batch after batch until nothing is due or `seconds` have passed; returns
    how many were claimed. A backlog thus never waits on the broker between batches;
    one more task is enqueued when time runs out with work left."""
    seconds = settings.CALLBACK_DRAIN_SECONDS if seconds is None else seconds
    deadline, total, first = time.monotonic() + seconds, 0, True
    while True:
        claimed = deliveries_deliver_batch(enqueue_more=first)
        total += claimed
        first = False
        if claimed < settings.CALLBACK_BATCH_SIZE:
            return total
        if time.monotonic() > deadline:
            enqueue_delivery_now()
            return total


def _send_all(deliveries: list[CallbackDelivery]) -> list[Sent]:
    """Send per registration over up to CALLBACK_CONNECTIONS_PER_DESTINATION connections,
    registrations side by side, so a slow destination delays no other."""
    groups: dict[int, list[CallbackDelivery]] = defaultdict(list)
    for delivery in deliveries:
        groups[delivery.registration_id].append(delivery)
    deadline = time.monotonic() + settings.CALLBACK_GROUP_TIME_BUDGET_SECONDS
    tripped: set[int] = set()  # registrations that went down during this batch
    lanes = [lane for group in groups.values() for lane in _lanes(group)]
    if len(lanes) == 1:
        return _deliver_lane(lanes[0], deadline, tripped)
    results: list[Sent] = []
    for sent in _pool().map(lambda lane: _deliver_lane(lane, deadline, tripped), lanes):
        results.extend(sent)
    return results


def _lanes(group: list[CallbackDelivery]) -> list[list[CallbackDelivery]]:
    """Split one destination's deliveries over parallel connections (at least 10 each)."""
    count = max(1, min(settings.CALLBACK_CONNECTIONS_PER_DESTINATION, len(group) // 10))
    return [group[i::count] for i in range(count)]


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(settings.CALLBACK_SEND_THREADS, "callbacks-send")
    return _executor


def _deliver_lane(deliveries: list[CallbackDelivery], deadline: float, tripped: set) -> list[Sent]:
    """Send deliveries of one registration in order; once it is down, release the rest.

    Never raises: an error preparing the lane or one delivery becomes that delivery's
    failed attempt (http.FAULT), so no delivery of another lane or company is affected.
    """
    registration = deliveries[0].registration
    try:
        secrets = registration.secrets
        webhook = Webhook(secrets["signing_secret"])
    except Exception as exc:  # noqa: BLE001 - e.g. secrets that no longer decrypt
        logger.exception("callbacks: registration %s cannot send", registration.pk)
        return [Sent(delivery, http.fault_outcome(exc)) for delivery in deliveries]
    failures = registration.consecutive_failures
    if registration.is_down():
        tripped.add(registration.pk)
    results = []
    for delivery in deliveries:
        if registration.pk in tripped or time.monotonic() > deadline:
            results.append(Sent(delivery))
            continue
        outcome = _send_one(delivery, secrets, webhook)
        results.append(Sent(delivery, outcome))
        if outcome.kind != http.FAULT:  # our own fault says nothing about the destination
            failures = failures + 1 if outcome.kind == http.TRANSIENT else 0
        if failures >= settings.CALLBACK_DOWN_AFTER_FAILURES:
            tripped.add(registration.pk)
    return results


def _send_one(delivery: CallbackDelivery, secrets: dict, webhook: Webhook) -> http.Outcome:
    """One attempt; an error building the request (a body that cannot be encoded, say)
    is this delivery's FAULT outcome, retried on its registration's scheme."""
    started = time.perf_counter()
    try:
        registration, event = delivery.registration, delivery.event
        payload = callback_payload(
            event=event, registration=registration, attempt=delivery.attempts
        )
        body = encode_payload(payload)
        headers = dict(secrets.get("headers") or {})
        headers.update(_protocol_headers(delivery, body, webhook))
        auth = secrets.get("basic_auth")
    except Exception as exc:  # noqa: BLE001 - one delivery's fault must not escape to its batch
        logger.warning("callbacks: delivery %s could not be prepared: %r", delivery.pk, exc)
        return http.fault_outcome(exc, started)
    return http.send(
        method=registration.method,
        url=registration.url,
        body=body,
        headers=headers,
        auth=(auth["username"], auth["password"]) if auth else None,
    )


def _protocol_headers(delivery: CallbackDelivery, body: bytes, webhook: Webhook) -> dict:
    """seeds/003 headers plus the Standard Webhooks signature (same id on every attempt)."""
    registration, event = delivery.registration, delivery.event
    event_id, now = str(event.id), timezone.now()
    return {
        "Content-Type": registration.content_type,
        "X-Event-Id": event_id,
        "X-Company-Id": registration.company.key,
        "X-Callback-Id": str(registration.callback_id),
        "X-Delivery-Attempts": str(delivery.attempts),
        "X-Event-Type": event.callback_type,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook.sign(event_id, now, body.decode()),
    }


def retry_delay(
    registration: CallbackRegistration, attempts: int, outcome, *, round_start: int = 0
) -> float | None:
    """Seconds until the next attempt, or None when the retries are used up.

    `Retry-After` (408/429) wins; otherwise the registration's interval for this attempt
    with +-10% jitter so a recovering receiver is not hit by every retry at once.
    `round_start` is the attempt after which a redelivery started a fresh round.
    """
    intervals = registration.intervals
    position = attempts - round_start
    if position > len(intervals):
        return None
    if outcome.retry_after is not None:
        return min(outcome.retry_after, float(max(intervals)))
    base = intervals[max(position, 1) - 1]
    return base * random.uniform(0.9, 1.1)


def retry_round_start(delivery: CallbackDelivery) -> int:
    """The last attempt before the delivery was redelivered (0 if it never failed): a
    redelivery keeps the attempt numbers going and starts a fresh round of retries."""
    if delivery.failed_at is None:
        return 0
    last = DeliveryAttempt.objects.filter(
        delivery_id=delivery.pk, created_at__lte=delivery.failed_at
    ).aggregate(number=Max("number"))["number"]
    return last or 0


def _record(token: uuid.UUID, results: list[Sent]) -> None:
    """Write each outcome, the attempt log and the registrations' health.

    The batch is written in one transaction; if that fails, each delivery is written in
    a transaction of its own, so one delivery that cannot be recorded never leaves the
    others in flight. One that still cannot be recorded is recorded as a failed attempt
    (FAULT); if even that fails it stays in flight and the sweep re-opens it (a limited
    number of times).
    """
    try:
        failed = _record_together(token, results)
    except Exception:  # noqa: BLE001
        logger.exception("callbacks: recording a batch failed; recording one by one")
        failed = _record_each(token, results)
    for deliveries in failed.values():
        try:
            failures_notify(registration=deliveries[0].registration, deliveries=deliveries)
        except Exception:  # noqa: BLE001 - the outcomes are recorded; a notice is best effort
            logger.exception("callbacks: could not notify failures")


def _record_together(token: uuid.UUID, results: list[Sent]) -> dict[int, list[CallbackDelivery]]:
    failed: dict[int, list[CallbackDelivery]] = defaultdict(list)
    with transaction.atomic():
        _relaxed_commit()
        DeliveryAttempt.objects.bulk_create(
            [_attempt_row(sent) for sent in results if sent.outcome is not None]
        )
        downs = health_update(results)
        for sent in results:
            if _apply_outcome(token, sent, downs) == State.FAILED:
                failed[sent.delivery.registration_id].append(sent.delivery)
        _bulk_delivered(token, results)
    return failed


def _record_each(token: uuid.UUID, results: list[Sent]) -> dict[int, list[CallbackDelivery]]:
    failed: dict[int, list[CallbackDelivery]] = defaultdict(list)
    for sent in results:
        try:
            recorded = _record_together(token, [sent])
        except Exception as exc:  # noqa: BLE001
            logger.exception("callbacks: delivery %s could not be recorded", sent.delivery.pk)
            sent.outcome = http.fault_outcome(exc)
            try:
                recorded = _record_together(token, [sent])
            except Exception:  # noqa: BLE001 - left in flight: the sweep re-opens it
                logger.exception("callbacks: delivery %s left to the sweep", sent.delivery.pk)
                continue
        for registration_id, deliveries in recorded.items():
            failed[registration_id].extend(deliveries)
    return failed


def _attempt_row(sent: Sent) -> DeliveryAttempt:
    outcome, delivery = sent.outcome, sent.delivery
    return DeliveryAttempt(
        delivery_id=delivery.pk,
        registration_id=delivery.registration_id,
        number=delivery.attempts,
        status_code=outcome.status_code,
        duration_ms=outcome.duration_ms,
        response_excerpt=outcome.excerpt,
        error=outcome.error,
        succeeded=outcome.kind == http.DELIVERED,
        created_at=sent.at,
    )


def _bulk_delivered(token: uuid.UUID, results: list[Sent]) -> None:
    by_status: dict[int, list[int]] = defaultdict(list)
    for sent in results:
        if sent.outcome is not None and sent.outcome.kind == http.DELIVERED:
            by_status[sent.outcome.status_code].append(sent.delivery.pk)
    for status, ids in by_status.items():
        _mine(token, ids).update(
            state=State.DELIVERED,
            delivered_at=timezone.now(),
            last_status=status,
            last_error="",
            claim_token=None,
        )


def _mine(token: uuid.UUID, ids: list[int]):
    """Only rows still held by this claim: a claim the sweep re-opened is not overwritten."""
    return CallbackDelivery.objects.filter(id__in=ids, claim_token=token, state=State.IN_FLIGHT)


def _apply_outcome(token: uuid.UUID, sent: Sent, downs: dict) -> str | None:
    """Write a non-delivered outcome; returns the new state (None for delivered ones)."""
    delivery, outcome = sent.delivery, sent.outcome
    if outcome is not None and outcome.kind == http.DELIVERED:
        return None  # written in bulk by _bulk_delivered
    rows = _mine(token, [delivery.pk])
    if outcome is None:
        registration = delivery.registration
        resume = downs.get(registration.pk) or (
            registration.down_until if registration.is_down() else delivery.next_attempt_at
        )
        rows.update(
            state=State.PENDING,
            attempts=F("attempts") - 1,
            claim_token=None,
            claimed_at=None,
            next_attempt_at=resume,
        )
        return State.PENDING
    delay = (
        None
        if outcome.kind == http.PERMANENT
        else retry_delay(
            delivery.registration,
            delivery.attempts,
            outcome,
            round_start=retry_round_start(delivery),
        )
    )
    delivery.last_status, delivery.last_error = outcome.status_code, outcome.error
    common = dict(last_status=outcome.status_code, last_error=outcome.error, claim_token=None)
    if delay is None:
        updated = rows.update(state=State.FAILED, failed_at=timezone.now(), **common)
        return State.FAILED if updated else None
    resume = max(sent.at + timedelta(seconds=delay), downs.get(delivery.registration_id) or sent.at)
    rows.update(state=State.PENDING, next_attempt_at=resume, **common)
    return State.PENDING
