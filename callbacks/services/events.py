"""Emitting callback events: the outbox rows written in the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from vibesweb.api.permissions import company_fact
from vibesweb.celery import enqueue
from vibesweb.db import ModelRows

from ..models import CallbackDelivery, CallbackEvent, CallbackRegistration
from ..types import canonical_type, scope_from_body, scope_matches

logger = logging.getLogger(__name__)
# Queued by name: callbacks.tasks imports these services to run them.
DELIVER_TASK = "callbacks.deliver_pending"
BodyBuilder = Callable[[int], dict]
BULK_CHUNK = 1000


_registrations = ModelRows(CallbackRegistration)
# Set on the company of every API request (vibesweb.api.permissions.company_fact): whether
# it had any registration not yet ended when the request started.
REGISTRATIONS_OPEN = "callback_registrations_open"


def register_company_fact() -> None:
    """Every API request learns in its membership statement whether its company has a
    registration that has not ended, so that a write of a company without any skips
    the registrations read (and a person add its transaction) instead of paying a round
    trip to find nothing. Ended registrations are kept for history, hence the date test
    (on SQLite, times are stored as UTC text: `now` to the millisecond in the same form;
    one ending within the same millisecond counts as open, which only costs the read)."""
    table = CallbackRegistration._meta.db_table
    now = "CURRENT_TIMESTAMP"
    if connection.vendor == "sqlite":
        now = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now')"  # %% : the SQL takes parameters
    company_fact(
        REGISTRATIONS_OPEN,
        f"EXISTS (SELECT 1 FROM {table} r WHERE r.company_id = c.id "
        f"AND (r.end_date IS NULL OR r.end_date > {now}))",
    )


def registrations_may_exist(company) -> bool:
    """False only when the company's row, read at the start of this request, showed no
    registration that had not ended: then nothing written in the request has anyone to
    be delivered to. A registration made while the request runs counts as made after it
    (as one committed a moment later would). Companies read any other way: True."""
    return getattr(company, REGISTRATIONS_OPEN, True)


def registrations_opened(company) -> None:
    """`company` (a request's) has an open registration from now on (one was just
    created in this request: ended ones cannot be reopened)."""
    if hasattr(company, REGISTRATIONS_OPEN):
        setattr(company, REGISTRATIONS_OPEN, True)


def open_registrations(company_id: int, callback_type: str, now=None) -> list:
    """Registrations of that type that fire now (started, not ended)."""
    now = now or timezone.now()
    # One raw statement (vibesweb.db): this runs inside every write of the API, and
    # compiling the ORM query cost more than running it.
    quote = connection.ops.quote_name
    field = CallbackRegistration._meta.get_field
    moment = field("start_date").get_db_prep_value(now, connection)
    tail = (
        f"WHERE {quote('company_id')} = %s AND {quote('callback_type')} = %s "
        f"AND {quote('start_date')} <= %s "
        f"AND ({quote('end_date')} IS NULL OR {quote('end_date')} > %s)"
    )
    return _registrations.select(tail, [company_id, callback_type, moment, moment])


def checked_type(callback_type: str) -> str:
    canonical = canonical_type(callback_type)
    if canonical is None:
        raise ValueError(f"unknown callback type {callback_type!r}")
    return canonical


def event_rows(*, company, callback_type, registrations, body, person_id, scope, now):
    """The event and its deliveries for one subject, or (None, []) if no scope matches."""
    bodies = {str(v): body(v) for v in sorted({r.api_version for r in registrations})}
    if any(r.scope for r in registrations):
        scope = {k: str(v) for k, v in scope.items()} if scope else _scope_of(bodies)
        registrations = [r for r in registrations if scope_matches(r.scope, scope)]
    if not registrations:
        return None, []
    event = CallbackEvent(
        company=company,
        callback_type=callback_type,
        person_id=person_id,
        bodies=bodies,
        created_at=now,
    )
    deliveries = [
        # A destination that is down is not tried before it may be again.
        CallbackDelivery(
            event=event,
            registration=r,
            next_attempt_at=max(now, r.down_until or now),
            created_at=now,
        )
        for r in registrations
    ]
    return event, deliveries


def _scope_of(bodies: dict) -> dict:
    return scope_from_body(next(iter(bodies.values()), {}))


def callback_event_emit(
    *,
    company,
    callback_type: str,
    body: BodyBuilder,
    person_id: int | None = None,
    scope: dict | None = None,
) -> CallbackEvent | None:
    """Record one event of `callback_type` for `company` in the current transaction.

    Writes the event and one delivery per open registration whose scope matches
    (`scope`, e.g. {"list_id": 12}; found in the body when not given), and enqueues
    delivery after commit. `body(api_version)` is called only if a registration exists.
    Returns the event, or None when nothing is registered. Raises ValueError for an
    unknown type.
    """
    callback_type = checked_type(callback_type)
    if not registrations_may_exist(company):
        return None
    now = timezone.now()
    registrations = open_registrations(company.pk, callback_type, now)
    if not registrations:
        return None
    event, deliveries = event_rows(
        company=company,
        callback_type=callback_type,
        registrations=registrations,
        body=body,
        person_id=person_id,
        scope=scope,
        now=now,
    )
    if event is None:
        return None
    event.save(force_insert=True)
    CallbackDelivery.objects.bulk_create(deliveries)
    enqueue_delivery_on_commit()
    return event


def callback_events_emit_bulk(
    *, company, callback_type: str, items: Iterable[tuple[int | None, BodyBuilder]]
) -> int:
    """Record many events of one type at once: `items` yields (person_id, body).

    Same contract as `callback_event_emit`, written with bulk inserts in chunks of
    BULK_CHUNK; `items` is not consumed when nothing is registered. Returns the number
    of events written.
    """
    callback_type = checked_type(callback_type)
    if not registrations_may_exist(company):
        return 0
    registrations = open_registrations(company.pk, callback_type)
    if not registrations:
        return 0
    written = 0
    iterator = iter(items)
    while chunk := list(islice(iterator, BULK_CHUNK)):
        written += _emit_chunk(company, callback_type, registrations, chunk)
    if written:
        enqueue_delivery_on_commit()
    return written


def _emit_chunk(company, callback_type, registrations, chunk) -> int:
    now = timezone.now()
    events, deliveries = [], []
    for person_id, body in chunk:
        event, rows = event_rows(
            company=company,
            callback_type=callback_type,
            registrations=registrations,
            body=body,
            person_id=person_id,
            scope=None,
            now=now,
        )
        if event is not None:
            events.append(event)
            deliveries.extend(rows)
    CallbackEvent.objects.bulk_create(events)
    CallbackDelivery.objects.bulk_create(deliveries)
    return len(events)


def enqueue_once_on_commit(enqueue: Callable[[], None]) -> None:
    """Call `enqueue` after the current transaction commits, once per transaction."""
    if connection.in_atomic_block and any(
        func is enqueue for _, func, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(enqueue)


def enqueue_delivery_on_commit() -> None:
    """Enqueue one delivery task after the current transaction commits (once per transaction)."""
    enqueue_once_on_commit(enqueue_delivery_now)


def enqueue_delivery_now() -> None:
    """Queue one delivery task now; a broker outage is logged (the sweep covers it)."""
    try:
        enqueue(DELIVER_TASK)
    except Exception:  # a broker outage only delays delivery: the sweep sends it
        logger.warning("callbacks: could not enqueue delivery", exc_info=True)
