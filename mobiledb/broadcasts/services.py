"""Broadcasts: schedule, edit, cancel, and send to list subscribers in batches.

A time-zone broadcast (`send_schedule` by_time_zone, broadcasts.targeting) sends in
passes, one per distinct local send instant, earliest first; each pass walks the audience
in the same batches, and `cursor_person_id` carries the pass number in its high bits
(PASS_SHIFT) so the one conditional UPDATE claims a batch of a pass.

Sending is claimed, batch by batch, with conditional UPDATEs on the broadcast row
(status and `cursor_person_id`), so a duplicated or retried task never sends a batch
twice, and a cancel takes effect at the next batch. The audience is re-read at every
batch: only persons with an active subscription to a source list (deduplicated per
person) and matching the custom field filters receive a message, so someone who opts
out mid-send gets nothing afterwards.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from vibesweb.celery import enqueue
from vibesweb.errors import DomainError, ErrorCode, Forbidden
from vibesweb.tenancy.models import Company

from ..persons.models import Person
from ..persons.selectors import custom_field_schema
from ..segments.models import Segment
from ..segments.selectors import capped_count, segment_persons
from ..subscriptions.models import Subscription, SubscriptionList
from ..subscriptions.services import subscription_list_get
from ..validation import CustomFieldSchema, format_platform_datetime
from .messaging import message_send, messages_send
from .models import Broadcast, OutboundMessage
from .targeting import (
    Targeting,
    earliest_send_instant,
    filters_apply,
    filters_clean,
    persons_of_pass,
    quiet_hours_end,
    send_passes,
    send_schedule_clean,
    targeting_read,
    zone_expression,
)
from .templating import SkipRecipient, message_render, sms_size, template_check, template_render

logger = logging.getLogger(__name__)
Status = Broadcast.Status
# person ids stay below 2**40; the bits above carry a time-zone broadcast's pass number
PASS_SHIFT = 40
_PERSON_MASK = (1 << PASS_SHIFT) - 1


class BroadcastInThePast(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "BroadcastErrors::ScheduledInThePast"
    default_message = "send_scheduled_date must be in the future"


class BroadcastInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "BroadcastErrors::Invalid"


class BroadcastNotEditable(Forbidden):
    error_class = "BroadcastErrors::NotEditable"
    default_message = "Only a scheduled broadcast can be changed or canceled"


# --- payload ------------------------------------------------------------------------------


def broadcast_payload(broadcast: Broadcast, *, company: Company) -> dict:
    lists = sorted(broadcast.source_lists.all(), key=lambda item: item.pk)
    targeting = targeting_read(broadcast.filters)
    return {
        "id": str(broadcast.pk),
        "broadcast_id": str(broadcast.pk),  # the platform's name for it
        "name": broadcast.name,
        "send_scheduled_date": format_platform_datetime(broadcast.send_scheduled_date),
        "targeting": {
            "message_template": broadcast.message_template,
            # list ids, as the platform's broadcastResponse writes them
            "source_lists": [str(item.pk) for item in lists],
            "filters": targeting.filters,
        },
        "send_schedule": targeting.send_schedule or {"method": "by_date"},
        "status": broadcast.status,
        "audience_count": broadcast.audience_count,
        "sent_count": broadcast.sent_count,
        "failed_count": broadcast.failed_count,
        "started_at": format_platform_datetime(broadcast.started_at),
        "completed_at": format_platform_datetime(broadcast.completed_at),
        "created_at": format_platform_datetime(broadcast.created_at),
        "updated_at": format_platform_datetime(broadcast.updated_at),
        "url": f"/companies/{company.key}/mobiledb/broadcasts/{broadcast.pk}",
    }


# --- validation ---------------------------------------------------------------------------


def _check_date(moment: datetime) -> None:
    if moment <= timezone.now():
        raise BroadcastInThePast(
            f"send_scheduled_date {format_platform_datetime(moment)} is in the past"
        )


def _check_template(template: str, schema: CustomFieldSchema, company: Company) -> None:
    if not template or not template.strip():
        raise BroadcastInvalid("targeting.message_template must not be empty")
    template_check(template, company=company, schema=schema)


def _lists(company: Company, list_ids: list) -> list[SubscriptionList]:
    if not list_ids:
        raise BroadcastInvalid("targeting.source_lists must name at least one list")
    found = []
    for list_id in list_ids:
        if isinstance(list_id, dict):
            list_id = list_id.get("id")
        found.append(subscription_list_get(company=company, list_id=list_id))
    return found


def broadcast_validate(
    *, company: Company, send_scheduled_date: datetime, message_template: str, filters
) -> list | dict:
    """The checks of broadcast_create for forms (the admin), which edit the stored
    targeting document (broadcasts.targeting); returns it cleaned."""
    schema = custom_field_schema(company)
    current = targeting_read(filters)
    schedule = send_schedule_clean(current.send_schedule, schema)
    if schedule is not None:
        send_scheduled_date = earliest_send_instant(schedule)
    _check_date(send_scheduled_date)
    _check_template(message_template, schema, company)
    return Targeting(filters_clean(current.filters, schema), schedule).stored()


def _scheduled(send_scheduled_date: datetime | None, schedule: dict | None) -> datetime:
    """When the scheduler starts it: a time-zone broadcast starts with its first zone."""
    if schedule is not None:
        return earliest_send_instant(schedule)
    if send_scheduled_date is None:
        raise BroadcastInvalid("send_scheduled_date is required")
    return send_scheduled_date


# --- schedule / edit / cancel -----------------------------------------------------------


@transaction.atomic
def broadcast_create(
    *,
    company: Company,
    name: str,
    send_scheduled_date: datetime,
    message_template: str,
    source_lists: list,
    filters: list | dict | None = None,
    send_schedule: dict | None = None,
) -> Broadcast:
    """Schedule a broadcast; with `send_schedule` by_time_zone, each recipient gets it at
    its send_time on its send_date in their own time zone (send_scheduled_date is then
    the first zone's moment). Raises BroadcastInThePast (400), SubscriptionListNotFound
    (404), CustomFieldNotFound / InvalidCustomFieldValue (400), BroadcastInvalid (400)."""
    schema = custom_field_schema(company)
    schedule = send_schedule_clean(send_schedule, schema)
    send_scheduled_date = _scheduled(send_scheduled_date, schedule)
    _check_date(send_scheduled_date)
    _check_template(message_template, schema, company)
    lists = _lists(company, source_lists)
    broadcast = Broadcast.objects.create(
        company=company,
        name=name,
        send_scheduled_date=send_scheduled_date,
        message_template=message_template,
        filters=Targeting(filters_clean(filters, schema), schedule).stored(),
    )
    broadcast.source_lists.set(lists)
    return broadcast


@transaction.atomic
def broadcast_update(*, broadcast: Broadcast, **changes) -> Broadcast:
    """Change a scheduled broadcast (omitted fields stay); BroadcastNotEditable (403)
    once it has started, plus broadcast_create's validation errors."""
    broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
    if broadcast.status != Status.SCHEDULED:
        raise BroadcastNotEditable()
    company = broadcast.company
    schema = custom_field_schema(company)
    if changes.get("name") is not None:
        broadcast.name = changes["name"]
    current = targeting_read(broadcast.filters)
    schedule = current.send_schedule
    if changes.get("send_schedule") is not None:
        schedule = send_schedule_clean(changes["send_schedule"], schema)
    if schedule is not None or changes.get("send_scheduled_date") is not None:
        moment = _scheduled(changes.get("send_scheduled_date"), schedule)
        _check_date(moment)
        broadcast.send_scheduled_date = moment
    if changes.get("message_template") is not None:
        _check_template(changes["message_template"], schema, company)
        broadcast.message_template = changes["message_template"]
    filters = current.filters
    if changes.get("filters") is not None:
        filters = filters_clean(changes["filters"], schema)
    broadcast.filters = Targeting(filters, schedule).stored()
    if changes.get("source_lists") is not None:
        broadcast.source_lists.set(_lists(company, changes["source_lists"]))
    broadcast.save()
    return broadcast


def broadcast_cancel(*, broadcast: Broadcast, only_scheduled: bool = True) -> Broadcast:
    """Cancel a broadcast. The API may cancel only a scheduled one (403 otherwise); the
    admin also cancels one in progress: the batch being sent finishes, no later batch
    starts."""
    allowed = [Status.SCHEDULED] if only_scheduled else [Status.SCHEDULED, Status.IN_PROGRESS]
    now = timezone.now()
    changed = Broadcast.objects.filter(pk=broadcast.pk, status__in=allowed).update(
        status=Status.CANCELED, completed_at=now, updated_at=now
    )
    if not changed:
        raise BroadcastNotEditable()
    broadcast.refresh_from_db()
    return broadcast


# --- audience and sending ---------------------------------------------------------------


def broadcast_audience(broadcast: Broadcast) -> QuerySet[Person]:
    """Persons with an MDN matching the filters who are either actively subscribed to a
    source list, or members of a target segment actively subscribed to any list of the
    company (a segment never reaches someone who has not opted in, SPEC section 13)."""
    return _with_filters(_targeted(broadcast), broadcast)


def _targeted(broadcast: Broadcast) -> QuerySet[Person]:
    return audience_targeted(
        company_id=broadcast.company_id,
        list_ids=list(broadcast.source_lists.values_list("pk", flat=True)),
        segments=list(broadcast.segments.select_related("company")),
    )


def audience_targeted(
    *, company_id: int, list_ids: list[int], segments: list[Segment]
) -> QuerySet[Person]:
    """The persons a broadcast to `list_ids` and `segments` reaches, before its filters."""
    persons = Person.objects.filter(company_id=company_id, mdn__isnull=False)
    reached = Q(pk__in=[])
    if list_ids:
        in_lists = Subscription.objects.filter(
            person=OuterRef("pk"), subscription_list_id__in=list_ids, opt_out_date__isnull=True
        )
        reached |= Q(Exists(in_lists))
    if segments:
        in_segment = Q(pk__in=[])
        for segment in segments:
            in_segment |= Q(pk__in=segment_persons(segment).values("pk"))
        subscribed = Subscription.objects.filter(person=OuterRef("pk"), opt_out_date__isnull=True)
        reached |= in_segment & Q(Exists(subscribed))
    return persons.filter(reached)


def audience_preview(
    *,
    company: Company,
    list_ids: list[int],
    segments: list[Segment],
    filters: dict,
    message_template: str,
) -> dict:
    """What the admin shows before a broadcast is sent: how many persons it reaches now,
    the message as its first recipient would read it, and its SMS size."""
    schema = custom_field_schema(company)
    audience = filters_apply(
        audience_targeted(company_id=company.pk, list_ids=list_ids, segments=segments),
        targeting_read(filters).filters,
        schema,
    )
    count, capped = capped_count(audience)
    sample = audience.order_by("pk").first()
    text = message_render(message_template, person=sample, schema=schema)
    return {"audience": count, "capped": capped, "sample": sample, "text": text,
            "sms": sms_size(text)}  # fmt: skip


def broadcast_test_send(
    *, company: Company, mdn: str, message_template: str, sample: Person | None
) -> OutboundMessage | None:
    """Send the message once to `mdn`, personalized for the person with that number (or
    `sample`); None when that number opted out of everything (nothing is ever sent to
    it, SPEC section 13)."""
    schema = custom_field_schema(company)
    owner = Person.objects.filter(company=company, mdn=mdn).first()
    body = message_render(message_template, person=owner or sample, schema=schema)
    if owner is not None:
        return message_send(
            company=company, person=owner, body=body, kind=OutboundMessage.Kind.OTHER
        )
    message = OutboundMessage(company=company, mdn=mdn, body=body, kind=OutboundMessage.Kind.OTHER)
    messages_send([message])
    return message


def _with_filters(persons: QuerySet[Person], broadcast: Broadcast) -> QuerySet[Person]:
    schema = custom_field_schema(broadcast.company)
    return filters_apply(persons, targeting_read(broadcast.filters).filters, schema)


def broadcast_render(template: str, person: Person, schema: CustomFieldSchema) -> str:
    """The template filled for the person (mobiledb.templating); SkipRecipient when a
    placeholder cannot be filled for them (e.g. no incentive code left)."""
    return template_render(template, person, schema=schema)


def broadcast_start(*, broadcast_id: int, now: datetime | None = None) -> bool:
    """Claim a due scheduled broadcast (scheduled -> in_progress) and queue its first
    batch after commit. Returns whether this call started it (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Broadcast.objects.filter(
            pk=broadcast_id, status=Status.SCHEDULED, send_scheduled_date__lte=now
        ).update(status=Status.IN_PROGRESS, started_at=now, updated_at=now)
        if not claimed:
            return False
        broadcast = Broadcast.objects.select_related("company").get(pk=broadcast_id)
        audience = broadcast_audience(broadcast).count()
        Broadcast.objects.filter(pk=broadcast_id).update(
            audience_count=audience, filters=_with_passes(broadcast)
        )
        transaction.on_commit(lambda: _queue_batch(broadcast_id))
    logger.info("broadcast %s started: %s recipients", broadcast_id, audience)
    return True


def _with_passes(broadcast: Broadcast):
    """The targeting document of a time-zone broadcast with its passes: the time zones its
    audience holds now, grouped by send instant (broadcasts.targeting.send_passes)."""
    targeting = targeting_read(broadcast.filters)
    if targeting.send_schedule is None:
        return broadcast.filters
    zones = (
        broadcast_audience(broadcast)
        .annotate(_send_zone=zone_expression(targeting.send_schedule))
        .values_list("_send_zone", flat=True)
        .distinct()
    )
    passes = send_passes(targeting.send_schedule, list(zones))
    return Targeting(targeting.filters, targeting.send_schedule, passes).stored()


def _pass_waits_until(targeting: Targeting, pass_index: int, now: datetime) -> datetime | None:
    """When the current pass may send, if not now: its send instant, or the end of quiet
    hours in its time zone (a pass running late never texts anyone at night)."""
    current = targeting.passes[pass_index]
    moment = datetime.fromisoformat(current["at"])
    if now < moment:
        return moment
    return quiet_hours_end(current["zones"][0], now)


def broadcasts_start_due(*, now: datetime | None = None) -> list[int]:
    """The scheduler's sweep: start every due broadcast, resume stalled ones, and queue
    the next pass of a time-zone broadcast once its moment has come."""
    now = now or timezone.now()
    due = Broadcast.objects.filter(
        status=Status.SCHEDULED, send_scheduled_date__lte=now
    ).values_list("pk", flat=True)
    started = [pk for pk in list(due[:500]) if broadcast_start(broadcast_id=pk, now=now)]
    stalled_before = now - timedelta(seconds=settings.BROADCAST_STALL_SECONDS)
    idle_before = now - timedelta(seconds=settings.BROADCAST_SCHEDULER_SECONDS)
    idle = Broadcast.objects.filter(
        status=Status.IN_PROGRESS, updated_at__lt=idle_before
    ).values_list("pk", "filters", "cursor_person_id", "updated_at")
    for pk, stored, cursor, updated_at in idle:
        targeting = targeting_read(stored)
        if targeting.passes:
            # between passes nothing runs: queue the next one once its moment has come
            if not _pass_waits_until(targeting, cursor >> PASS_SHIFT, now):
                _queue_batch(pk)
        elif updated_at < stalled_before:
            logger.warning("broadcast %s stalled: resuming", pk)
            _queue_batch(pk)
    return started


def _queue_batch(broadcast_id: int) -> None:
    # By name: broadcasts.tasks imports this module to run the batch.
    enqueue("mobiledb.broadcast_send_batch", broadcast_id)


def broadcast_send_next_batch(*, broadcast_id: int, batch_size: int | None = None) -> bool:
    """Send the next batch of a broadcast in progress; returns whether more remain.

    The batch is claimed by advancing `cursor_person_id` with a conditional UPDATE in
    the same transaction as the messages, so a batch is sent exactly once; a canceled
    broadcast sends nothing more. A backend failure marks the broadcast failed.
    """
    batch_size = batch_size or settings.BROADCAST_BATCH_SIZE
    try:
        with transaction.atomic():
            return _send_batch(broadcast_id, batch_size)
    except Exception as error:  # the backend refused: record it, never retry blindly
        logger.exception("broadcast %s failed", broadcast_id)
        now = timezone.now()
        counts = Broadcast.objects.filter(pk=broadcast_id).values("audience_count", "sent_count")
        row = counts.first() or {}
        unsent = max((row.get("audience_count") or 0) - (row.get("sent_count") or 0), 0)
        Broadcast.objects.filter(pk=broadcast_id, status=Status.IN_PROGRESS).update(
            status=Status.FAILED,
            failed_count=unsent,
            error=f"{type(error).__name__}: {error}"[:2000],
            completed_at=now,
            updated_at=now,
        )
        return False


def _next_subscriber_ids(broadcast: Broadcast, cursor: int, batch_size: int) -> list[int]:
    """The next `batch_size` person ids after `cursor` with an active subscription to a
    source list, deduplicated and ascending.

    One ordered range scan of the partial index on active subscriptions per list, each
    LIMITed: the smallest ids of the union are among the smallest ids of each list, so
    every batch costs the same however far the cursor has gone, on any query plan.
    """
    ids: set[int] = set()
    for list_id in broadcast.source_lists.values_list("pk", flat=True):
        ids.update(
            Subscription.objects.filter(
                subscription_list_id=list_id, opt_out_date__isnull=True, person_id__gt=cursor
            )
            .order_by("person_id")
            .values_list("person_id", flat=True)[:batch_size]
        )
    return sorted(ids)[:batch_size]


def _send_batch(broadcast_id: int, batch_size: int) -> bool:
    broadcast = Broadcast.objects.select_related("company").filter(pk=broadcast_id).first()
    if broadcast is None or broadcast.status != Status.IN_PROGRESS:
        return False
    cursor = broadcast.cursor_person_id
    pass_index, after_person = cursor >> PASS_SHIFT, cursor & _PERSON_MASK
    targeting = targeting_read(broadcast.filters)
    now = timezone.now()
    if targeting.passes and _pass_waits_until(targeting, pass_index, now):
        return False  # the scheduler's sweep queues the pass when its moment comes
    if broadcast.segments.exists():
        # segments are filters, not an index: walk the targeted persons in id order
        candidate_ids = list(
            _targeted(broadcast)
            .filter(pk__gt=after_person)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
    else:
        candidate_ids = _next_subscriber_ids(broadcast, after_person, batch_size)
    recipients = _with_filters(
        Person.objects.filter(
            pk__in=candidate_ids, company_id=broadcast.company_id, mdn__isnull=False
        ),
        broadcast,
    )
    if targeting.passes:
        recipients = persons_of_pass(
            recipients, targeting.send_schedule, targeting.passes, pass_index
        ).exclude(  # one message per person, even one whose time zone changed meanwhile
            Exists(OutboundMessage.objects.filter(broadcast_id=broadcast.pk, person=OuterRef("pk")))
        )
    persons = list(
        recipients.order_by("pk").only("pk", "mdn", "external_person_id", "custom_fields")
    )
    pass_done = len(candidate_ids) < batch_size
    last_pass = not targeting.passes or pass_index + 1 >= len(targeting.passes)
    done = pass_done and last_pass
    changes = {"updated_at": now}
    if pass_done and not last_pass:
        changes["cursor_person_id"] = (pass_index + 1) << PASS_SHIFT
    elif candidate_ids:
        changes["cursor_person_id"] = (pass_index << PASS_SHIFT) | candidate_ids[-1]
    if done:
        changes.update(status=Status.SENT, completed_at=now)
    claimed = Broadcast.objects.filter(
        pk=broadcast_id, status=Status.IN_PROGRESS, cursor_person_id=cursor
    ).update(**changes)
    if not claimed:
        return False  # canceled meanwhile, or another worker sent this batch
    schema = custom_field_schema(broadcast.company)
    messages, skipped = [], 0
    for person in persons:
        try:
            body = broadcast_render(broadcast.message_template, person, schema)
        except SkipRecipient as skip:
            # e.g. its incentive pool is empty: no message rather than a broken one;
            # counted with the recipients not sent to (failed_count).
            logger.info("broadcast %s: person %s skipped: %s", broadcast_id, person.pk, skip)
            skipped += 1
            continue
        messages.append(
            OutboundMessage(
                company_id=broadcast.company_id,
                person_id=person.pk,
                mdn=person.mdn,
                body=body,
                kind=OutboundMessage.Kind.BROADCAST,
                broadcast_id=broadcast.pk,
            )
        )
    messages_send(messages)
    Broadcast.objects.filter(pk=broadcast_id).update(
        sent_count=F("sent_count") + len(messages), failed_count=F("failed_count") + skipped
    )
    if done:
        logger.info(
            "broadcast %s sent to %s persons (%s skipped)",
            broadcast_id,
            broadcast.sent_count + len(messages),
            broadcast.failed_count + skipped,
        )
    return not done
