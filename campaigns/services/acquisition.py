"""Acquisition campaigns and their participants (SPEC sections 3 and 5).

A participant joins by API, keyword or admin through `participant_add`. Single opt-in
subscribes at once (status SUBSCRIBED); double opt-in records a PENDING participation
and texts a confirmation request, and a YES (`participation_confirm`) subscribes
(CONFIRMED). NO or STOP while pending rejects it (REJECTED); no answer before
`expire_date` expires it (EXPIRED). `ack_participant_added` fires for every new
participation and `ack_participant_changed` for a confirmation or rejection, as the
platform does (timeouts and single opt-ins fire no change event).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.services import callback_event_emit
from mobiledb.broadcasts.messaging import message_send
from mobiledb.broadcasts.templating import SkipRecipient, template_render
from mobiledb.errors import ExternalIdAlreadyAssigned, ExternalIdMismatch
from mobiledb.models import OutboundMessage, Person, SubscriptionList
from mobiledb.persons.selectors import custom_field_schema
from mobiledb.persons.services import person_add, person_update
from mobiledb.subscriptions.services import subscription_active, subscription_add
from mobiledb.validation import format_mdn, format_platform_datetime
from vibesweb.tenancy.models import Company

from ..errors import (
    AcquisitionCampaignNotFound,
    AlreadySubscribed,
    CampaignHasNoLists,
    CampaignNotActive,
    ParticipantExternalIdMismatch,
    ParticipantMdnRequired,
)
from ..models import AcquisitionCampaign, Participation
from .keywords import HELP_WORDS, START_WORDS, STOP_WORDS

Status = Participation.Status
logger = logging.getLogger(__name__)

# Words a phone sends that the platform itself answers; no campaign may use them.
YES_WORDS = frozenset({"YES", "Y"})
NO_WORDS = frozenset({"NO", "N"})
RESERVED_KEYWORDS = STOP_WORDS | YES_WORDS | NO_WORDS | HELP_WORDS | START_WORDS


# --- payloads ---------------------------------------------------------------------------


def campaign_payload(campaign: AcquisitionCampaign, *, company: Company) -> dict:
    """The platform's acquisition campaign entity, plus its lists and opt-in type."""
    url = f"/companies/{company.key}/campaigns/acquisition/{campaign.pk}"
    lists = sorted(campaign.subscription_lists.all(), key=lambda item: item.pk)
    return {
        "acquisition_id": str(campaign.pk),
        "description": campaign.name,
        "campaign_type": {"code": "ACQUISITION"},
        "status": campaign.status,
        "start_date": format_platform_datetime(campaign.start_date),
        "end_date": format_platform_datetime(campaign.end_date),
        "acquisition_campaign": {"keywords": [campaign.keyword] if campaign.keyword else []},
        "sourcecode": campaign.short_code or None,
        "opt_in": campaign.opt_in,
        "subscription_lists": [
            {
                "id": str(item.pk),
                "name": item.name,
                "url": f"/companies/{company.key}/mobiledb/subscription_lists/{item.pk}",
            }
            for item in lists
        ],
        "participants_url": f"{url}/participants",
        "url": url,
        "created_date": format_platform_datetime(campaign.created_at),
        "updated_date": format_platform_datetime(campaign.updated_at),
    }


def participant_payload(participation: Participation, *, company: Company, api_version: int):
    """The participant object of the platform's acquisition callbacks and API."""
    person = participation.person
    campaign = participation.campaign
    return {
        "person": {
            "id": str(person.pk),
            "external_id": person.external_person_id,
            "mobile_phone": {"mdn": format_mdn(person.mdn, api_version=api_version)},
            "url": f"/companies/{company.key}/mobiledb/persons/{person.pk}",
        },
        "acquisition_campaign": {
            "id": str(campaign.pk),
            "description": campaign.name,
            "url": f"/companies/{company.key}/campaigns/acquisition/{campaign.pk}",
            "keyword": campaign.keyword or None,
        },
        "participation_date": format_platform_datetime(participation.participation_date),
        "expire_date": format_platform_datetime(participation.expire_date),
        "status": participation.status,
    }


def _emit_participant(participation: Participation, callback_type: str) -> None:
    company = participation.company
    callback_event_emit(
        company=company,
        callback_type=callback_type,
        body=lambda api_version: {
            "participant": participant_payload(
                participation, company=company, api_version=api_version
            )
        },
        person_id=participation.person_id,
    )


# --- campaigns ----------------------------------------------------------------------------


def keyword_problem(*, company: Company, keyword: str, exclude_pk: int | None = None):
    """Why `keyword` cannot be used by a new campaign of `company`, or None."""
    word = keyword.strip().upper()
    if not word:
        return None
    if not word.isalnum():
        return "A keyword is one word of letters and digits."
    if word in RESERVED_KEYWORDS:
        return f"'{word}' is reserved (STOP, YES, NO, HELP and their synonyms)."
    clash = AcquisitionCampaign.objects.filter(
        company=company,
        keyword__iexact=word,
        status__in=[AcquisitionCampaign.Status.ACTIVE, AcquisitionCampaign.Status.SCHEDULED],
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        return f"'{word}' is already the keyword of another active or scheduled campaign."
    return None


@transaction.atomic
def acquisition_campaign_create(
    *,
    company: Company,
    name: str,
    subscription_lists: list[SubscriptionList],
    keyword: str = "",
    opt_in: str = AcquisitionCampaign.OptIn.SINGLE,
    status: str = AcquisitionCampaign.Status.ACTIVE,
    short_code: str = "",
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> AcquisitionCampaign:
    """Create a campaign on `company`'s lists. Raises ValidationError (bad keyword, lists)."""
    if not subscription_lists:
        raise ValidationError("An acquisition campaign needs at least one subscription list.")
    if any(item.company_id != company.pk for item in subscription_lists):
        raise ValidationError("A subscription list belongs to another company.")
    problem = keyword_problem(company=company, keyword=keyword)
    if problem:
        raise ValidationError(problem)
    if start_date and end_date and end_date <= start_date:
        raise ValidationError("end_date must be after start_date.")
    campaign = AcquisitionCampaign(
        company=company,
        name=name,
        keyword=keyword.strip().upper(),
        opt_in=opt_in,
        status=status,
        short_code=short_code,
        start_date=start_date,
        end_date=end_date,
    )
    campaign.full_clean()
    campaign.save()
    campaign.subscription_lists.set(subscription_lists)
    return campaign


def acquisition_campaign_get(*, company: Company, campaign_id) -> AcquisitionCampaign:
    """A campaign of `company` (deleted ones included, as the platform shows them)."""
    try:
        pk = int(str(campaign_id))
    except ValueError:
        raise AcquisitionCampaignNotFound() from None
    campaign = AcquisitionCampaign.objects.filter(company=company, pk=pk).first()
    if campaign is None:
        raise AcquisitionCampaignNotFound()
    campaign.company = company
    return campaign


def campaigns_roll_status(*, now: datetime | None = None) -> int:
    """Scheduled campaigns whose start has come become active; ended ones become past."""
    now = now or timezone.now()
    campaigns = AcquisitionCampaign.objects
    started = campaigns.filter(
        status=AcquisitionCampaign.Status.SCHEDULED, start_date__lte=now
    ).exclude(end_date__lte=now)
    ended = campaigns.filter(
        status__in=[AcquisitionCampaign.Status.SCHEDULED, AcquisitionCampaign.Status.ACTIVE],
        end_date__lte=now,
    )
    changed = ended.update(status=AcquisitionCampaign.Status.PAST, updated_at=now)
    changed += started.update(status=AcquisitionCampaign.Status.ACTIVE, updated_at=now)
    return changed


# --- participants ------------------------------------------------------------------------


def participant_add(
    *,
    campaign: AcquisitionCampaign,
    person_changes: dict,
    source: str = Participation.Source.API,
) -> tuple[Participation, bool]:
    """Add a participant from a person body's changes; returns (participation, created).

    created is False when the person was already pending (the API's 200). Raises
    CampaignNotActive (422), ParticipantExternalIdMismatch (422), AlreadySubscribed
    (409), ParticipantMdnRequired (400). All or nothing: a refusal leaves the person
    unchanged (seeds: "changes will only be performed if a 2xx is returned").
    """
    company = campaign.company
    if not campaign.is_active_at():
        raise CampaignNotActive()
    lists = list(campaign.subscription_lists.all())
    if not lists:
        raise CampaignHasNoLists()
    with transaction.atomic():
        person = _participant_person(company, person_changes)
        pending = _pending_for(campaign, person)
        if pending is not None:
            return pending, False
        missing = [
            item for item in lists if not subscription_active(person=person, subscription_list=item)
        ]
        if not missing:
            raise AlreadySubscribed()
        if campaign.is_double_opt_in:
            return _participation_pending(campaign, person, source)
        participation = Participation.objects.create(
            company=company,
            campaign=campaign,
            person=person,
            status=Status.SUBSCRIBED,
            source=source,
        )
        participation.person = person
        participation.campaign = campaign
        _subscribe(participation, missing)
        _emit_participant(participation, "ack_participant_added")
    return participation, True


def _participant_person(company: Company, changes: dict) -> Person:
    try:
        if changes.get("mdn"):
            person, _ = person_add(company=company, **changes)
        elif changes.get("external_person_id"):
            person = Person.objects.filter(
                company=company, external_person_id=changes["external_person_id"]
            ).first()
            if person is None:
                raise ParticipantMdnRequired()
            person.company = company
            rest = {k: v for k, v in changes.items() if k != "external_person_id"}
            person = person_update(person=person, **rest)
        else:
            raise ParticipantMdnRequired()
    except (ExternalIdMismatch, ExternalIdAlreadyAssigned) as error:
        raise ParticipantExternalIdMismatch(f"EXTERNALPERSONIDMISMATCH: {error.message}") from None
    if not person.mdn:
        raise ParticipantMdnRequired()
    person.company = company
    return person


def _pending_for(campaign: AcquisitionCampaign, person: Person) -> Participation | None:
    pending = (
        Participation.objects.select_related("campaign")
        .filter(campaign=campaign, person=person, status=Status.PENDING)
        .first()
    )
    if pending is None:
        return None
    if pending.expire_date and pending.expire_date <= timezone.now():
        _expire([pending.pk])
        return None
    pending.person = person
    pending.campaign = campaign
    return pending


def _participation_pending(campaign, person, source) -> tuple[Participation, bool]:
    now = timezone.now()
    participation = Participation(
        company=campaign.company,
        campaign=campaign,
        person=person,
        status=Status.PENDING,
        source=source,
        participation_date=now,
        expire_date=now + timedelta(seconds=settings.ACQUISITION_PENDING_TTL_SECONDS),
    )
    try:
        with transaction.atomic():
            participation.save()
    except IntegrityError:  # a concurrent request made it pending first
        return _pending_for(campaign, person), False
    body = campaign_text(campaign.confirmation_message, campaign, person)
    if body is not None:
        message_send(
            company=campaign.company,
            person=person,
            body=body,
            kind=OutboundMessage.Kind.CONFIRMATION_REQUEST,
            short_code=campaign.short_code,
        )
    _emit_participant(participation, "ack_participant_added")
    return participation, True


def _subscribe(participation: Participation, lists: list[SubscriptionList]) -> None:
    campaign = participation.campaign
    for subscription_list in lists:
        subscription_add(
            person=participation.person,
            subscription_list=subscription_list,
            acquisition_campaign=campaign,
        )
    body = campaign_text(campaign.welcome_message, campaign, participation.person)
    if body:
        message_send(
            company=campaign.company,
            person=participation.person,
            body=body,
            kind=OutboundMessage.Kind.WELCOME,
            short_code=campaign.short_code,
        )


def campaign_text(template: str, campaign: AcquisitionCampaign, person: Person) -> str | None:
    """A campaign reply for `person`: {campaign} and the message template placeholders
    (`{{incentive_code:POOL_ID}}` issues them a code). None when the person must be
    skipped (e.g. the pool is empty): no text rather than a broken one."""
    # {{campaign}}, the placeholder syntax of every template; {campaign} as written before
    text = template.replace("{{campaign}}", campaign.name).replace("{campaign}", campaign.name)
    if "{{" not in text:
        return text
    try:
        return template_render(text, person, schema=custom_field_schema(campaign.company))
    except SkipRecipient as skip:
        logger.warning("campaign %s: no reply to person %s: %s", campaign.pk, person.pk, skip)
        return None


def participations_pending(*, person: Person) -> list[Participation]:
    """The person's unexpired pending participations (oldest first)."""
    now = timezone.now()
    found = (
        Participation.objects.select_related("campaign", "campaign__company")
        .filter(person=person, status=Status.PENDING, expire_date__gt=now)
        .order_by("participation_date", "id")
    )
    return list(found)


@transaction.atomic
def participation_confirm(*, participation: Participation) -> bool:
    """A YES: subscribe a pending participation's person (CONFIRMED).

    Claimed with a conditional UPDATE, so a duplicate YES confirms once; returns
    whether this call confirmed it. An expired or inactive campaign's participation
    is not confirmed.
    """
    now = timezone.now()
    campaign = participation.campaign
    if not campaign.is_active_at(now):
        return False
    claimed = Participation.objects.filter(
        pk=participation.pk, status=Status.PENDING, expire_date__gt=now
    ).update(status=Status.CONFIRMED, status_changed_at=now)
    if not claimed:
        return False
    participation.status = Status.CONFIRMED
    participation.status_changed_at = now
    lists = [
        item
        for item in campaign.subscription_lists.all()
        if not item.archived
        and not subscription_active(person=participation.person, subscription_list=item)
    ]
    _subscribe(participation, lists)
    _emit_participant(participation, "ack_participant_changed")
    return True


@transaction.atomic
def participation_reject(*, participation: Participation) -> bool:
    """A NO or STOP while pending: the acquisition flow ends (REJECTED)."""
    now = timezone.now()
    claimed = Participation.objects.filter(pk=participation.pk, status=Status.PENDING).update(
        status=Status.REJECTED, status_changed_at=now
    )
    if not claimed:
        return False
    participation.status = Status.REJECTED
    participation.status_changed_at = now
    _emit_participant(participation, "ack_participant_changed")
    return True


def participations_expire(*, now: datetime | None = None) -> int:
    """Pending participations past their expire_date become EXPIRED; returns how many.

    Idempotent (a conditional UPDATE on pending rows, served by a partial index); the
    platform fires no callback for a timeout.
    """
    now = now or timezone.now()
    return Participation.objects.filter(status=Status.PENDING, expire_date__lte=now).update(
        status=Status.EXPIRED, status_changed_at=now
    )


def _expire(pks: list[int]) -> None:
    Participation.objects.filter(pk__in=pks, status=Status.PENDING).update(
        status=Status.EXPIRED, status_changed_at=timezone.now()
    )


def template_modernized(template: str) -> str:
    """A reply written with the older `{campaign}` in today's `{{campaign}}` syntax."""
    return re.sub(r"(?<!\{)\{campaign\}(?!\})", "{{campaign}}", template)
