"""Person events recorded in bulk (imports): one outbox row per chunk, expanded later.

A chunk of an import creates or changes thousands of persons. Building each event's
body (the person JSON per API version) and writing an event and its deliveries per
person made an import with callbacks registered seven times slower. Instead the chunk
records one PersonEventBatch in its own transaction, with the ids of its persons and the
registrations open then (so the outbox stays exact: the batch exists if and only if the
chunk committed), and the callbacks queue expands every batch into the CallbackEvents
and deliveries `callback_event_emit` would have written, oldest first, one batch per
transaction; delivery then goes on as for any event.

An event's body is the person as the expansion reads it, moments after the change: the
same state unless the person changed again meanwhile, and then the newer one (which a
later event of that change also carries). A person deleted meanwhile gets no event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from vibesweb.celery import enqueue

from ..models import CallbackDelivery, CallbackEvent, CallbackRegistration, PersonEventBatch
from .events import (
    BodyBuilder,
    checked_type,
    enqueue_delivery_on_commit,
    enqueue_once_on_commit,
    event_rows,
    open_registrations,
)

logger = logging.getLogger(__name__)
# Queued by name: callbacks.tasks imports these services to run them.
EXPAND_TASK = "callbacks.expand_person_event_batches"

PERSON_TYPES = ("person_added", "person_updated")

# Builds the bodies of a batch's events: (company, person ids) -> {person id: body builder},
# leaving out persons deleted since. The app that owns persons (mobiledb) registers it at
# ready; callbacks stores and sends the bodies it is given and knows no domain model.
BatchBodies = Callable[[Any, list[int]], dict[int, BodyBuilder]]
_batch_bodies: dict[str, BatchBodies] = {}


def batch_bodies_register(callback_types: Iterable[str], build: BatchBodies) -> None:
    """Make `build` the body builder of batched events of `callback_types`."""
    for callback_type in callback_types:
        _batch_bodies[checked_type(callback_type)] = build


def person_events_emit_batch(
    *, company, callback_type: str, person_ids: list[int], event_date: datetime
) -> int:
    """Record `callback_type` events for the persons `person_ids` (current transaction).

    Returns the number of events to come (0 when nothing is registered); their expansion
    is enqueued after commit.
    """
    callback_type = checked_type(callback_type)
    if callback_type not in PERSON_TYPES:
        raise ValueError(f"{callback_type} events are not recorded in batches")
    if not person_ids:
        return 0
    registrations = open_registrations(company.pk, callback_type, event_date)
    if not registrations:
        return 0
    PersonEventBatch.objects.create(
        company=company,
        callback_type=callback_type,
        registration_ids=[registration.pk for registration in registrations],
        person_ids=person_ids,
        event_date=event_date,
    )
    enqueue_expansion_on_commit()
    return len(person_ids)


def person_event_batches_expand(*, seconds: float | None = None) -> int:
    """Expand pending batches, oldest first, for up to `seconds`; returns events written.

    Safe to run concurrently: each batch is claimed by one transaction, which writes its
    events and deliveries and deletes it. Time running out enqueues a successor.
    """
    budget = settings.CALLBACK_DRAIN_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    written = 0
    while time.monotonic() < deadline:
        expanded = _expand_oldest()
        if expanded is None:
            return written
        written += expanded
    enqueue_expansion_now()
    return written


def _expand_oldest() -> int | None:
    """Expand the oldest unclaimed batch; None when there is none.

    PostgreSQL: claimed with its row locked (others skip it) in the transaction that
    writes its events. SQLite has one writer at a time: the events are built first, and
    the short transaction that writes them claims the batch by deleting it, so building
    thousands of bodies never holds the write lock an import or the API waits for.
    """
    pending = PersonEventBatch.objects.select_related("company").order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            batch = pending.select_for_update(skip_locked=True, of=("self",)).first()
            if batch is None:
                return None
            return _write(batch, *_events_of(batch))
    batch = pending.first()
    if batch is None:
        return None
    events, deliveries = _events_of(batch)
    with transaction.atomic():
        return _write(batch, events, deliveries)


def _write(batch: PersonEventBatch, events: list, deliveries: list) -> int:
    """Delete the batch and write its events (in the caller's transaction); 0 if another
    worker expanded it first."""
    deleted, _ = PersonEventBatch.objects.filter(pk=batch.pk).delete()
    if not deleted:
        return 0
    CallbackEvent.objects.bulk_create(events)
    CallbackDelivery.objects.bulk_create(deliveries)
    if events:
        enqueue_delivery_on_commit()
    return len(events)


def _events_of(batch: PersonEventBatch) -> tuple[list, list]:
    registrations = list(CallbackRegistration.objects.filter(pk__in=batch.registration_ids))
    if not registrations:  # deleted since: nobody to deliver to
        return [], []
    company = batch.company
    bodies = _batch_bodies[batch.callback_type](company, list(batch.person_ids))
    events, deliveries = [], []
    for pk in batch.person_ids:
        body = bodies.get(pk)
        if body is None:  # deleted since the change: nobody left to describe
            continue
        event, rows = event_rows(
            company=company,
            callback_type=batch.callback_type,
            registrations=registrations,
            body=body,
            person_id=pk,
            scope=None,
            now=batch.event_date,
        )
        if event is not None:
            events.append(event)
            deliveries.extend(rows)
    return events, deliveries


def enqueue_expansion_on_commit() -> None:
    """Enqueue one expansion task after the current transaction commits (once)."""
    enqueue_once_on_commit(enqueue_expansion_now)


def enqueue_expansion_now() -> None:
    """Queue one expansion task now; a broker outage is logged (the sweep covers it)."""
    try:
        enqueue(EXPAND_TASK)
    except Exception:  # a broker outage only delays the events: the sweep expands them
        logger.warning("callbacks: could not enqueue batch expansion", exc_info=True)
