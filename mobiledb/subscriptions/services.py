"""Subscribing persons to lists and opting them out (SPEC sections 3 and 5).

A subscription row is never reopened: opting out stamps `opt_out_date`/`opt_out_reason`
and a later re-subscription is a new row, so the history is complete. Every change
emits its callback (`subscription_added`, `subscription_removed`) in the same
transaction, with the payload of seeds/000, and appends its record to the consent ledger
(`consent.py`), so no path can opt a number in or out without leaving its proof.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.services import callback_event_emit
from vibesweb.actors import Actor
from vibesweb.errors import NotFound, Unprocessable
from vibesweb.tenancy.models import Company

from ..persons.models import Person
from ..validation import format_platform_datetime
from .consent import CARRIER_REASONS, consent_record_append
from .models import ConsentRecord, Subscription, SubscriptionList, SuppressedNumber

OptOutReason = Subscription.OptOutReason


class SubscriptionListNotFound(NotFound):
    error_class = "SubscriptionListErrors::NotFound"
    default_message = "Subscription list not found"


class NotSubscribed(NotFound):
    error_class = "SubscriptionErrors::NotSubscribed"
    default_message = "The person is not subscribed to this list"


class SubscriptionListArchived(Unprocessable):
    error_class = "SubscriptionErrors::ListArchived"
    default_message = "The subscription list is archived and takes no new subscribers"


# --- payloads (seeds/000) ---------------------------------------------------------------


def _person_ref(person: Person, company: Company) -> dict:
    return {
        "id": str(person.pk),
        "external_id": person.external_person_id,
        "url": f"/companies/{company.key}/mobiledb/persons/{person.pk}",
    }


def _campaign_ref(campaign_id: int | None, company: Company) -> dict | None:
    if campaign_id is None:
        return None
    return {
        "id": str(campaign_id),
        "url": f"/companies/{company.key}/campaigns/acquisition/{campaign_id}",
    }


def subscription_payload(
    subscription: Subscription, *, company: Company, include_opt_out: bool = True, person=None
) -> dict:
    """The seed's `subscription` object; without the opt-out keys for subscription_added.

    `person`: anything with `pk` and `external_person_id` standing for the subscription's
    person (an import passes the row it read instead of loading the person again)."""
    person_url = f"/companies/{company.key}/mobiledb/persons/{subscription.person_id}"
    list_id = subscription.subscription_list_id
    payload = {
        "person": _person_ref(person or subscription.person, company),
        "subscription_list": {
            "id": str(list_id),
            "url": f"/companies/{company.key}/mobiledb/subscription_lists/{list_id}",
        },
        "opt_in_date": format_platform_datetime(subscription.opt_in_date),
    }
    if include_opt_out:
        payload["opt_out_date"] = format_platform_datetime(subscription.opt_out_date)
        payload["opt_out_reason"] = subscription.opt_out_reason
    payload["acquisition_campaign"] = _campaign_ref(subscription.acquisition_campaign_id, company)
    payload["url"] = f"{person_url}/subscriptions/{list_id}"
    return payload


def subscription_added_body(subscription: Subscription, *, company: Company, person=None) -> dict:
    """The `subscription_added` callback body (seeds/000 "Subscription Added Callback")."""
    payload = subscription_payload(
        subscription, company=company, include_opt_out=False, person=person
    )
    return {"subscription": payload}


def subscription_removed_body(subscription: Subscription, *, company: Company, person=None) -> dict:
    """The `subscription_removed` callback body (seeds/000 "Subscription Removed Callback")."""
    return {"subscription": subscription_payload(subscription, company=company, person=person)}


def subscription_list_payload(subscription_list: SubscriptionList, *, company: Company) -> dict:
    url = f"/companies/{company.key}/mobiledb/subscription_lists/{subscription_list.pk}"
    return {
        "id": str(subscription_list.pk),
        "name": subscription_list.name,
        "url": url,
        "subscribers_url": f"{url}/subscribers",
        "acquisition_campaigns_url": f"{url}/acquisition_campaigns",
    }


# --- subscription lists --------------------------------------------------------------------


@transaction.atomic
def subscription_list_create(
    *, company: Company, name: str, description: str = ""
) -> SubscriptionList:
    """Create a list and emit `subscription_list_added`."""
    subscription_list = SubscriptionList(company=company, name=name, description=description)
    subscription_list.full_clean()
    subscription_list.save()
    _emit_list_event(subscription_list, company, "subscription_list_added")
    return subscription_list


@transaction.atomic
def subscription_list_update(
    *,
    subscription_list: SubscriptionList,
    name: str | None = None,
    description: str | None = None,
    archived: bool | None = None,
) -> SubscriptionList:
    """Rename, describe or archive a list and emit `subscription_list_updated`.

    Archiving opts every active subscriber out with `list_archived`.
    """
    if name is not None:
        subscription_list.name = name
    if description is not None:
        subscription_list.description = description
    newly_archived = archived is True and not subscription_list.archived
    if archived is not None:
        subscription_list.archived = archived
    subscription_list.full_clean()
    subscription_list.save()
    company = subscription_list.company
    if newly_archived:
        active = Subscription.objects.filter(
            subscription_list=subscription_list, opt_out_date__isnull=True
        ).select_related("person")
        for subscription in active:
            _opt_out(subscription, reason=OptOutReason.LIST_ARCHIVED, company=company)
    _emit_list_event(subscription_list, company, "subscription_list_updated")
    return subscription_list


def _emit_list_event(subscription_list: SubscriptionList, company: Company, kind: str) -> None:
    callback_event_emit(
        company=company,
        callback_type=kind,
        body=lambda api_version: {
            "subscription_list": subscription_list_payload(subscription_list, company=company)
        },
    )


def subscription_list_get(*, company: Company, list_id) -> SubscriptionList:
    """A list of `company` by id; SubscriptionListNotFound (404) otherwise."""
    try:
        pk = int(str(list_id))
    except ValueError:
        raise SubscriptionListNotFound() from None
    found = SubscriptionList.objects.filter(company=company, pk=pk).first()
    if found is None:
        raise SubscriptionListNotFound()
    found.company = company
    return found


# --- subscriptions ---------------------------------------------------------------------


def subscription_add(
    *,
    person: Person,
    subscription_list: SubscriptionList,
    acquisition_campaign=None,
    opt_in_date: datetime | None = None,
) -> tuple[Subscription, bool]:
    """Subscribe `person` to `subscription_list`; returns (subscription, created).

    Already subscribed: the active row and False, nothing emitted. Otherwise a new row
    and a `subscription_added` event in the same transaction. Raises
    SubscriptionListArchived (422). Safe under concurrency: the partial unique index
    on active rows lets only one insert win; the loser returns the winner's row.
    """
    if subscription_list.archived:
        raise SubscriptionListArchived()
    company = person.company
    with transaction.atomic():
        active = subscription_active(person=person, subscription_list=subscription_list)
        if active is not None:
            return active, False
        subscription = Subscription(
            company_id=person.company_id,
            person=person,
            subscription_list=subscription_list,
            opt_in_date=opt_in_date or timezone.now(),
            acquisition_campaign=acquisition_campaign,
        )
        try:
            with transaction.atomic():
                subscription.save()
        except IntegrityError:
            return subscription_active(person=person, subscription_list=subscription_list), False
        _record_opt_in(subscription, person=person, company=company)
        callback_event_emit(
            company=company,
            callback_type="subscription_added",
            body=lambda api_version: subscription_added_body(subscription, company=company),
            person_id=person.pk,
        )
    return subscription, True


def subscription_active(*, person: Person, subscription_list: SubscriptionList):
    return Subscription.objects.filter(
        person=person, subscription_list=subscription_list, opt_out_date__isnull=True
    ).first()


@transaction.atomic
def subscription_opt_out(
    *, person: Person, subscription_list: SubscriptionList, reason: str
) -> Subscription:
    """Opt `person` out of one list; NotSubscribed (404) when not actively subscribed."""
    subscription = (
        Subscription.objects.select_for_update()
        .filter(person=person, subscription_list=subscription_list, opt_out_date__isnull=True)
        .first()
    )
    if subscription is None:
        raise NotSubscribed()
    subscription.person = person
    return _opt_out(subscription, reason=reason, company=person.company)


@transaction.atomic
def subscriptions_opt_out_all(*, person: Person, reason: str) -> list[Subscription]:
    """Opt `person` out of every active subscription (a STOP); one event per list."""
    active = list(
        Subscription.objects.select_for_update().filter(person=person, opt_out_date__isnull=True)
    )
    for subscription in active:
        subscription.person = person
        _opt_out(subscription, reason=reason, company=person.company)
    return active


def _opt_out(subscription: Subscription, *, reason: str, company: Company) -> Subscription:
    if reason not in OptOutReason.values:
        raise ValueError(f"unknown opt_out_reason {reason!r}")
    subscription.opt_out_date = timezone.now()
    subscription.opt_out_reason = reason
    subscription.save(update_fields=["opt_out_date", "opt_out_reason"])
    _record_opt_out(subscription, reason=reason, company=company)
    callback_event_emit(
        company=company,
        callback_type="subscription_removed",
        body=lambda api_version: subscription_removed_body(subscription, company=company),
        person_id=subscription.person_id,
    )
    return subscription


def _record_opt_in(subscription: Subscription, *, person: Person, company: Company) -> None:
    # A new opt-in is new consent: a STOP from this number no longer holds.
    if person.mdn:
        SuppressedNumber.objects.filter(company=company, mdn=person.mdn).delete()
    consent_record_append(
        company=company,
        mdn=person.mdn or "",
        person_id=person.pk,
        action=ConsentRecord.Action.OPT_IN,
        subscription_list_id=subscription.subscription_list_id,
        campaign_id=subscription.acquisition_campaign_id,
        occurred_at=subscription.opt_in_date,
    )


def _record_opt_out(subscription: Subscription, *, reason: str, company: Company) -> None:
    actor = None
    if reason in CARRIER_REASONS:
        actor = Actor(channel=ConsentRecord.Channel.CARRIER, source=f"carrier: {reason}")
    consent_record_append(
        company=company,
        mdn=subscription.person.mdn or "",
        person_id=subscription.person_id,
        action=ConsentRecord.Action.OPT_OUT,
        subscription_list_id=subscription.subscription_list_id,
        campaign_id=subscription.acquisition_campaign_id,
        actor=actor,
        occurred_at=subscription.opt_out_date,
    )


def subscription_latest(*, person: Person, subscription_list: SubscriptionList) -> Subscription:
    """The active subscription, else the most recent one; NotSubscribed (404) if never."""
    history = Subscription.objects.filter(person=person, subscription_list=subscription_list)
    found = (
        history.filter(opt_out_date__isnull=True).first()
        or history.order_by("-opt_in_date", "-id").first()
    )
    if found is None:
        raise NotSubscribed("The person has never subscribed to this list")
    found.person = person
    return found


# --- STOP and START (SPEC section 13) ------------------------------------------------------


@transaction.atomic
def number_stop(*, company: Company, mdn: str, person: Person | None) -> list[Subscription]:
    """A STOP from `mdn`: opt it out of every list, suppress every further message to it
    until it opts in again, and record the opt-out in the ledger even when the number
    had no subscription (or is not a person at all). Returns the subscriptions ended."""
    removed = (
        subscriptions_opt_out_all(person=person, reason=OptOutReason.USER_OPT_OUT)
        if person is not None
        else []
    )
    if not removed:
        consent_record_append(
            company=company,
            mdn=mdn,
            person_id=person.pk if person is not None else None,
            action=ConsentRecord.Action.OPT_OUT,
        )
    suppressed, created = SuppressedNumber.objects.select_for_update().get_or_create(
        company=company, mdn=mdn
    )
    ended = {int(list_id) for list_id in suppressed.ended_list_ids}
    ended.update(subscription.subscription_list_id for subscription in removed)
    suppressed.ended_list_ids = sorted(ended)
    suppressed.save(update_fields=["ended_list_ids"])
    return removed


@transaction.atomic
def number_start(*, company: Company, mdn: str, person: Person | None) -> list[Subscription] | None:
    """A START/UNSTOP from `mdn`: subscribe it again to the lists its STOP ended (new
    subscriptions, new consent records) and lift the suppression. None when the number
    had not stopped (nothing to resume)."""
    suppressed = SuppressedNumber.objects.select_for_update().filter(company=company, mdn=mdn)
    suppressed = suppressed.first()
    if suppressed is None:
        return None
    resumed = []
    if person is not None:
        lists = SubscriptionList.objects.filter(
            company=company, pk__in=suppressed.ended_list_ids, archived=False
        )
        for subscription_list in lists:
            subscription, created = subscription_add(
                person=person, subscription_list=subscription_list
            )
            if created:
                resumed.append(subscription)
    if not resumed:
        consent_record_append(
            company=company,
            mdn=mdn,
            person_id=person.pk if person is not None else None,
            action=ConsentRecord.Action.OPT_IN,
        )
    SuppressedNumber.objects.filter(pk=suppressed.pk).delete()
    return resumed


def number_unsuppress(*, company: Company, mdn: str) -> None:
    """The number itself asked for messages again (it texted a campaign keyword)."""
    SuppressedNumber.objects.filter(company=company, mdn=mdn).delete()
