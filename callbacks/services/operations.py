"""Operating deliveries: the periodic sweep, redelivery, test events and retention."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from ..models import (
    CallbackDelivery,
    CallbackEvent,
    CallbackRegistration,
    DeliveryAttempt,
    PersonEventBatch,
)
from ..payloads import sample_body
from .batches import enqueue_expansion_now
from .events import enqueue_delivery_now, enqueue_delivery_on_commit
from .notifications import failures_notify
from .registrations import RegistrationEnded

State = CallbackDelivery.State


def deliveries_sweep() -> dict:
    """Re-open claims held too long (a killed worker), enqueue delivery if any is due and
    the expansion of person event batches if any is left.

    A claim re-opened CALLBACK_MAX_REOPENINGS times already fails instead (failure queue,
    customer notified): a delivery that kills its worker every time must not be re-sent
    forever. Run by the scheduler every CALLBACK_SWEEP_SECONDS, so a lost broker message
    or a dead worker only delays delivery. Idempotent.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.CALLBACK_STALE_SECONDS)
    stale = CallbackDelivery.objects.filter(state=State.IN_FLIGHT, claimed_at__lt=stale_before)
    abandoned = _deliveries_abandon(stale.filter(reopenings__gte=settings.CALLBACK_MAX_REOPENINGS))
    reopened = stale.filter(reopenings__lt=settings.CALLBACK_MAX_REOPENINGS).update(
        state=State.PENDING,
        claim_token=None,
        claimed_at=None,
        next_attempt_at=now,
        reopenings=F("reopenings") + 1,
    )
    due = CallbackDelivery.objects.filter(state=State.PENDING, next_attempt_at__lte=now).exists()
    if due:
        enqueue_delivery_now()
    batches = PersonEventBatch.objects.exists()
    if batches:  # a lost expansion task, or a worker killed while expanding
        enqueue_expansion_now()
    return {"reopened": reopened, "abandoned": abandoned, "due": due, "batches": batches}


def _deliveries_abandon(stale) -> int:
    """Fail stale claims that were re-opened too often; notify their registrations."""
    ids = list(stale.values_list("id", flat=True)[:1000])
    if not ids:
        return 0
    error = (
        f"abandoned: its worker was lost {settings.CALLBACK_MAX_REOPENINGS + 1} times "
        "while sending it"
    )
    count = CallbackDelivery.objects.filter(id__in=ids, state=State.IN_FLIGHT).update(
        state=State.FAILED, failed_at=timezone.now(), claim_token=None, last_error=error
    )
    failed = CallbackDelivery.objects.filter(id__in=ids, state=State.FAILED).select_related(
        "registration__company"
    )
    by_registration: dict[int, list[CallbackDelivery]] = defaultdict(list)
    for delivery in failed:
        by_registration[delivery.registration_id].append(delivery)
    for deliveries in by_registration.values():
        failures_notify(registration=deliveries[0].registration, deliveries=deliveries)
    return count


def deliveries_redeliver(*, deliveries) -> int:
    """Put failed deliveries back in the queue with a fresh retry budget; returns how many.

    Only failed ones move (a pending or delivered one is left alone); the event id stays,
    and so does the attempt count: the next attempt is numbered after the last one sent
    (on the wire and in the log), and its retries are counted from the attempt that
    failed (`failed_at` keeps when that was: delivery.retry_round_start).
    """
    with transaction.atomic():
        count = deliveries.filter(state=State.FAILED).update(
            state=State.PENDING,
            next_attempt_at=timezone.now(),
            claim_token=None,
            reopenings=0,
        )
        if count:
            enqueue_delivery_on_commit()
    return count


@transaction.atomic
def callback_event_test_send(
    *, registration: CallbackRegistration, sample: dict | None = None
) -> CallbackDelivery:
    """Queue a test event (a sample body of the registration's type) to that registration;
    `sample` is the tester's request, whose objects and scope fill the body (payloads).

    Raises RegistrationEnded (403) for an ended registration.
    """
    if registration.is_ended():
        raise RegistrationEnded("An ended callback registration cannot receive test events")
    body = sample_body(
        registration.callback_type,
        company=registration.company,
        api_version=registration.api_version,
        overrides=sample,
    )
    event = CallbackEvent.objects.create(
        company=registration.company,
        callback_type=registration.callback_type,
        bodies={str(registration.api_version): body},
        is_test=True,
    )
    delivery = CallbackDelivery.objects.create(
        event=event,
        registration=registration,
        next_attempt_at=max(timezone.now(), registration.down_until or timezone.now()),
    )
    enqueue_delivery_on_commit()
    return delivery


def callback_events_prune(*, batch: int = 5000) -> int:
    """Delete events older than CALLBACK_RETENTION_DAYS whose deliveries are all settled
    (delivered or failed), with their deliveries and attempt logs; one batch per call."""
    cutoff = timezone.now() - timedelta(days=settings.CALLBACK_RETENTION_DAYS)
    open_delivery = CallbackDelivery.objects.filter(
        event=OuterRef("pk"), state__in=[State.PENDING, State.IN_FLIGHT]
    )
    ids = list(
        CallbackEvent.objects.filter(created_at__lt=cutoff)
        .exclude(Exists(open_delivery))
        .values_list("id", flat=True)[:batch]
    )
    if not ids:
        return 0
    with transaction.atomic():
        DeliveryAttempt.objects.filter(delivery__event_id__in=ids).delete()
        CallbackDelivery.objects.filter(event_id__in=ids).delete()
        CallbackEvent.objects.filter(id__in=ids).delete()
    return len(ids)
