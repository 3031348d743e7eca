"""Segments and bulk actions: every change to a person goes through the services the API
uses, so bulk subscribes, opt-outs and tags fire the same callbacks."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from vibesweb.actors import acting_as
from vibesweb.celery import enqueue
from vibesweb.errors import DomainError
from vibesweb.tenancy.models import Company

from ..persons.models import Person
from ..persons.services import person_tag_add, person_tag_remove
from ..subscriptions.models import Subscription, SubscriptionList
from ..subscriptions.services import subscription_add, subscription_opt_out
from .models import PersonBulkAction, Segment
from .selectors import persons_filtered

logger = logging.getLogger(__name__)
Kind = PersonBulkAction.Kind
BULK_BATCH_SIZE = 500
# A selection this small is done in the request; anything larger goes to a worker.
BULK_INLINE_LIMIT = 200


def segment_save(*, company: Company, name: str, filters: dict[str, str]) -> Segment:
    """Save `filters` as the segment `name` (an existing segment of that name is updated)."""
    name = name.strip()
    if not name:
        raise ValidationError("Give the segment a name.")
    segment, _ = Segment.objects.update_or_create(
        company=company, name=name, defaults={"filters": filters}
    )
    return segment


def bulk_action_persons(action: PersonBulkAction) -> QuerySet[Person]:
    persons = Person.objects.filter(company_id=action.company_id)
    if action.person_ids is not None:
        return persons.filter(pk__in=action.person_ids)
    return persons_filtered(persons, action.filters or {}, company=action.company)


def bulk_action_start(
    *,
    company: Company,
    kind: str,
    subscription_list: SubscriptionList | None = None,
    tag: str = "",
    filters: dict[str, str] | None = None,
    person_ids: list[int] | None = None,
    user=None,
) -> PersonBulkAction:
    """Record a bulk action and run it: in this request when it is a small selection,
    otherwise by a Celery task queued after commit (progress on the row)."""
    if kind in (Kind.SUBSCRIBE, Kind.OPT_OUT):
        if subscription_list is None:
            raise ValidationError("Choose a subscription list.")
        if subscription_list.company_id != company.pk:
            raise ValidationError("That list belongs to another company.")
        if kind == Kind.SUBSCRIBE and subscription_list.archived:
            raise ValidationError("That list is archived: nobody can subscribe to it.")
    elif not tag.strip():
        raise ValidationError("Type the tag to add or remove.")
    elif len(tag.strip()) > 100:
        raise ValidationError("A tag is at most 100 characters.")
    action = PersonBulkAction.objects.create(
        company=company,
        kind=kind,
        subscription_list=subscription_list,
        tag=tag.strip(),
        filters=filters or {},
        person_ids=person_ids,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    action.total = bulk_action_persons(action).count()
    action.save(update_fields=["total"])
    if person_ids is not None and len(person_ids) <= BULK_INLINE_LIMIT:
        bulk_action_run(bulk_action_id=action.pk)
        action.refresh_from_db()
    else:
        transaction.on_commit(lambda: enqueue("mobiledb.person_bulk_action", action.pk))
    return action


def bulk_action_run(*, bulk_action_id: int) -> PersonBulkAction:
    """Apply the action to its persons in pk order, a batch per transaction, recording
    progress; a retried or duplicated run resumes after the last finished batch."""
    action = PersonBulkAction.objects.select_related(
        "company", "subscription_list", "created_by"
    ).get(pk=bulk_action_id)
    if action.status in (PersonBulkAction.Status.DONE, PersonBulkAction.Status.FAILED):
        return action
    PersonBulkAction.objects.filter(pk=action.pk).update(status=PersonBulkAction.Status.RUNNING)
    # The consent ledger records these opt-ins and opt-outs as bulk, and by whom (SPEC 13).
    by = action.created_by.username if action.created_by is not None else "unknown user"
    source = f"bulk action {action.pk} ({action.kind}) by admin user {by}"
    try:
        with acting_as("bulk", source=source):
            _run_batches(bulk_action_id)
    except Exception as error:  # recorded for the marketer; the log has the traceback
        logger.exception("bulk action %s failed", bulk_action_id)
        action.refresh_from_db()
        PersonBulkAction.objects.filter(pk=bulk_action_id).update(
            status=PersonBulkAction.Status.FAILED,
            error=f"Stopped after {action.processed} persons: {error}"[:2000],
            finished_at=timezone.now(),
        )
    else:
        PersonBulkAction.objects.filter(pk=bulk_action_id).update(
            status=PersonBulkAction.Status.DONE, finished_at=timezone.now()
        )
    action.refresh_from_db()
    return action


def _run_batches(bulk_action_id: int) -> None:
    while True:
        with transaction.atomic():
            action = PersonBulkAction.objects.select_for_update().get(pk=bulk_action_id)
            batch = list(
                bulk_action_persons(action)
                .filter(pk__gt=action.cursor_person_id)
                .select_related("company")
                .order_by("pk")[:BULK_BATCH_SIZE]
            )
            if not batch:
                return
            changed = sum(1 for person in batch if _apply(action, person))
            action.cursor_person_id = batch[-1].pk
            action.processed += len(batch)
            action.changed += changed
            action.save(update_fields=["cursor_person_id", "processed", "changed"])


def _apply(action: PersonBulkAction, person: Person) -> bool:
    person.company = action.company
    if action.kind == Kind.SUBSCRIBE:
        if person.mdn is None:
            return False  # a list subscription is a phone's consent
        _, created = subscription_add(person=person, subscription_list=action.subscription_list)
        return created
    if action.kind == Kind.OPT_OUT:
        try:
            subscription_opt_out(
                person=person,
                subscription_list=action.subscription_list,
                reason=Subscription.OptOutReason.BULK_OPT_OUT,
            )
        except DomainError:  # not subscribed: nothing to do
            return False
        return True
    if action.kind == Kind.TAG:
        return person_tag_add(person=person, tag=action.tag)
    return person_tag_remove(person=person, tag=action.tag)
