"""Inbound SMS events (`POST /companies/:key/events`, SPEC section 5).

The first word of the message decides: a STOP word opts the MDN out of every active
subscription of the company (`user_opt_out`), rejects its pending participations,
suppresses every further message and sends one confirmation; HELP/INFO answers the
program's help text; START/UNSTOP subscribes again what STOP ended (`keywords.py`); YES
confirms pending participations, NO rejects them; a campaign keyword joins that campaign
(creating the person if the MDN is new); anything else is recorded as unmatched. Every
opt-in and opt-out it causes is recorded in the consent ledger as sent by keyword.
Every event is stored with its outcome; an `event_id` seen before is acknowledged and not
applied twice.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from mobiledb.models import Person
from mobiledb.subscriptions.services import number_start, number_stop, number_unsuppress
from vibesweb.actors import acting_as
from vibesweb.tenancy.models import Company

from ..errors import AlreadySubscribed
from ..models import AcquisitionCampaign, InboundEvent, Participation
from .acquisition import (
    NO_WORDS,
    YES_WORDS,
    participant_add,
    participation_confirm,
    participation_reject,
    participations_pending,
)
from .keywords import (
    HELP_WORDS,
    START_WORDS,
    help_answer,
    is_stop,
    start_confirm,
    stop_confirm,
)

Outcome = InboundEvent.Outcome
INBOUND_MESSAGE = "inbound_message"
_FIRST_WORD = re.compile(r"[A-Za-z0-9]+")


def command_word(message: str) -> str:
    """The message's first word, upper-cased, without punctuation ('Stop.' -> 'STOP')."""
    match = _FIRST_WORD.search(message or "")
    return match.group(0).upper() if match else ""


def inbound_event_receive(
    *,
    company: Company,
    event_id: str,
    mdn: str,
    message: str,
    short_code: str = "",
    event_type: str = "inbound_message",
    event_date: datetime | None = None,
) -> tuple[InboundEvent, bool]:
    """Record and apply one inbound event; returns (event, applied).

    `mdn` is E.164 (already validated). Only an `inbound_message` is applied (keywords);
    any other event type is recorded, unmatched. applied is False for an event_id seen before:
    the stored event is returned and nothing happens again. Transactional: the event
    row and its effects commit together; a concurrent duplicate waits on the unique
    index and then finds the first one.
    """
    with transaction.atomic():
        event = InboundEvent(
            company=company,
            event_id=event_id,
            event_type=event_type,
            mdn=mdn,
            short_code=short_code,
            message=message,
            event_date=event_date,
            outcome=Outcome.UNMATCHED,
        )
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            return InboundEvent.objects.get(company=company, event_id=event_id), False
        if event_type == INBOUND_MESSAGE:
            source = f"SMS to short code {short_code or '(none)'}, inbound event {event_id}"
            with acting_as("keyword", source=source, text=message):
                _apply(event, company)
        else:
            # API-triggered campaigns (the platform's event-triggered messages) are out of
            # scope (SPEC section 12): the event is kept, as the platform acknowledges it.
            event.person = Person.objects.filter(company=company, mdn=mdn).first() if mdn else None
            event.detail = f"no campaign is triggered by event type {event_type}"[:255]
        event.save(update_fields=["outcome", "detail", "person", "campaign"])
    return event, True


def _apply(event: InboundEvent, company: Company) -> None:
    word = command_word(event.message)
    person = Person.objects.filter(company=company, mdn=event.mdn).first()
    if person is not None:
        person.company = company
        event.person = person
    if is_stop(event.message, word):
        _stop(event, company, person)
    elif word in HELP_WORDS:
        _help(event, company, person)
    elif word in START_WORDS:
        _start(event, company, person)
    elif word in YES_WORDS or word in NO_WORDS:
        _answer(event, person, confirm=word in YES_WORDS)
    else:
        _keyword(event, company, word)


def _stop(event: InboundEvent, company: Company, person: Person | None) -> None:
    if person is not None:
        for participation in participations_pending(person=person):
            participation.person = person
            participation_reject(participation=participation)
    removed = number_stop(company=company, mdn=event.mdn, person=person)
    stop_confirm(company=company, mdn=event.mdn, short_code=event.short_code, person=person)
    if person is None:
        # Recorded in the ledger all the same: the number said STOP (SPEC section 13).
        event.outcome = Outcome.UNKNOWN_MDN
        event.detail = "STOP from an MDN that is not in the mobile database (recorded)"
        return
    event.outcome = Outcome.OPTED_OUT
    event.detail = f"opted out of {len(removed)} subscription(s)"


def _help(event: InboundEvent, company: Company, person: Person | None) -> None:
    sent = help_answer(company=company, mdn=event.mdn, short_code=event.short_code, person=person)
    event.outcome = Outcome.HELP_SENT if sent else Outcome.HELP_THROTTLED
    event.detail = "" if sent else "help text already sent to this number within a minute"


def _start(event: InboundEvent, company: Company, person: Person | None) -> None:
    resumed = number_start(company=company, mdn=event.mdn, person=person)
    if resumed is None:
        event.outcome = Outcome.NOTHING_PENDING
        event.detail = "the number had not texted STOP"
        return
    start_confirm(company=company, mdn=event.mdn, short_code=event.short_code, person=person)
    event.outcome = Outcome.RESUBSCRIBED
    event.detail = f"subscribed again to {len(resumed)} list(s)"


def _answer(event: InboundEvent, person: Person | None, *, confirm: bool) -> None:
    pending = participations_pending(person=person) if person is not None else []
    if event.short_code:
        pending = [p for p in pending if p.campaign.short_code in ("", event.short_code)]
    if not pending:
        event.outcome = Outcome.NOTHING_PENDING
        event.detail = "no pending participation for this MDN"
        return
    done = 0
    for participation in pending:
        participation.person = person
        if confirm:
            done += participation_confirm(participation=participation)
        else:
            done += participation_reject(participation=participation)
        event.campaign = participation.campaign
    verb = "confirmed" if confirm else "declined"
    if not done:  # e.g. the campaign ended meanwhile
        event.outcome = Outcome.NOTHING_PENDING
        event.detail = f"no pending participation could be {verb}"
        return
    event.outcome = Outcome.CONFIRMED if confirm else Outcome.DECLINED
    event.detail = f"{verb} {done} pending participation(s)"


def _keyword(event: InboundEvent, company: Company, word: str) -> None:
    campaign = _campaign_for_keyword(company, word, event.short_code) if word else None
    if campaign is None:
        event.outcome = Outcome.UNMATCHED
        return
    event.campaign = campaign
    if not campaign.is_active_at():
        event.outcome = Outcome.CAMPAIGN_NOT_ACTIVE
        event.detail = f"campaign is {campaign.status}"
        return
    # The number itself asked to join: its earlier STOP no longer holds.
    number_unsuppress(company=company, mdn=event.mdn)
    try:
        participation, created = participant_add(
            campaign=campaign,
            person_changes={"mdn": event.mdn},
            source=Participation.Source.KEYWORD,
        )
    except AlreadySubscribed:
        event.outcome = Outcome.ALREADY_SUBSCRIBED
        event.person = Person.objects.filter(company=company, mdn=event.mdn).first()
        return
    event.person = participation.person
    event.outcome = Outcome.JOINED if created else Outcome.ALREADY_PENDING
    event.detail = f"participation {participation.status}"


def _campaign_for_keyword(company: Company, word: str, short_code: str):
    candidates = AcquisitionCampaign.objects.filter(company=company, keyword__iexact=word).exclude(
        status=AcquisitionCampaign.Status.DELETED
    )
    if short_code:
        candidates = candidates.filter(Q(short_code="") | Q(short_code=short_code))
    found = list(candidates.order_by("-id")[:20])
    for campaign in found:
        if campaign.is_active_at():
            campaign.company = company
            return campaign
    if found:
        found[0].company = company
        return found[0]
    return None
