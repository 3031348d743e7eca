"""The consent ledger (SPEC section 13): one immutable, hash-chained record per opt-in or
opt-out, whatever path it came by.

Each record's `hash` is the SHA-256 of its own fields and its predecessor's hash, so
changing, removing or inserting a record anywhere breaks every hash after it;
`consent_ledger_verify` walks a company's chain and names the first broken record.
Appends lock the company's `ConsentChain` row for the rest of the transaction, so two
concurrent opt-ins get consecutive sequence numbers instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from vibesweb.actors import Actor, current_actor
from vibesweb.dates import format_platform_datetime
from vibesweb.tenancy.models import Company

from .models import ConsentChain, ConsentRecord

Action = ConsentRecord.Action
Channel = ConsentRecord.Channel

GENESIS_HASH = "0" * 64

# Opt-outs the carrier reports (a number disconnected or ported away), whoever relays them.
CARRIER_REASONS = frozenset({"disconnect", "failed_at_carrier", "obsolete_carrier"})


@dataclass(frozen=True)
class ConsentEntry:
    """What happened, before it gets its place in the chain."""

    mdn: str
    person_id: int | None
    action: str
    subscription_list_id: int | None = None
    campaign_id: int | None = None
    actor: Actor | None = None
    occurred_at: datetime | None = None


def consent_record_append(
    *,
    company: Company,
    mdn: str,
    person_id: int | None,
    action: str,
    subscription_list_id: int | None = None,
    campaign_id: int | None = None,
    actor: Actor | None = None,
    occurred_at: datetime | None = None,
) -> ConsentRecord:
    """Append one record to `company`'s ledger inside the caller's transaction.

    The actor (channel, source, text) defaults to `vibesweb.actors.current_actor()`.
    """
    entry = ConsentEntry(
        mdn=mdn,
        person_id=person_id,
        action=action,
        subscription_list_id=subscription_list_id,
        campaign_id=campaign_id,
        actor=actor,
        occurred_at=occurred_at,
    )
    return consent_records_append(company=company, entries=[entry])[0]


def consent_records_append(
    *, company: Company, entries: Iterable[ConsentEntry]
) -> list[ConsentRecord]:
    """Append many records in one go (an import chunk): one lock, one insert."""
    entries = list(entries)
    if not entries:
        return []
    with transaction.atomic():
        ConsentChain.objects.get_or_create(company=company)
        chain = ConsentChain.objects.select_for_update().get(pk=company.pk)
        default_actor = current_actor()
        now = timezone.now()
        records = []
        for entry in entries:
            actor = entry.actor or default_actor
            record = ConsentRecord(
                company=company,
                sequence=chain.last_sequence + 1,
                mdn=entry.mdn or "",
                person_id=entry.person_id,
                action=entry.action,
                subscription_list_id=entry.subscription_list_id,
                campaign_id=entry.campaign_id,
                channel=actor.channel,
                source=actor.source,
                text=actor.text,
                occurred_at=entry.occurred_at or now,
                previous_hash=chain.last_hash,
            )
            record.hash = record_hash(record)
            chain.last_sequence = record.sequence
            chain.last_hash = record.hash
            records.append(record)
        ConsentRecord.objects.bulk_create(records)
        chain.save(update_fields=["last_sequence", "last_hash"])
    return records


def record_hash(record: ConsentRecord) -> str:
    """SHA-256 over the record's fields and its predecessor's hash, in a fixed order."""
    fields = [
        record.previous_hash,
        record.company_id,
        record.sequence,
        record.mdn,
        record.person_id,
        record.action,
        record.subscription_list_id,
        record.campaign_id,
        record.channel,
        record.source,
        record.text,
        _canonical_time(record.occurred_at),
    ]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def _canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- verification -----------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerVerification:
    checked: int
    broken_sequence: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_sequence is None


def consent_ledger_verify(*, company: Company) -> LedgerVerification:
    """Walk `company`'s chain from the first record; stop at the first broken one."""
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for record in _chain_in_order(company):
        if record.sequence != expected_sequence:
            return LedgerVerification(
                checked, expected_sequence, f"record #{expected_sequence} is missing"
            )
        if record.previous_hash != previous_hash:
            return LedgerVerification(
                checked, record.sequence, "its previous_hash does not match the record before"
            )
        if record_hash(record) != record.hash:
            return LedgerVerification(
                checked, record.sequence, "its contents do not match its hash (altered)"
            )
        previous_hash = record.hash
        expected_sequence += 1
        checked += 1
    head = ConsentChain.objects.filter(company=company).first()
    if head is not None and head.last_sequence != checked:
        return LedgerVerification(
            checked, checked + 1, f"the chain's head names record #{head.last_sequence}"
        )
    return LedgerVerification(checked)


def _chain_in_order(company: Company) -> Iterator[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(company=company).order_by("sequence").iterator(chunk_size=2000)
    )


# --- reads ----------------------------------------------------------------------------------


def consent_history(*, company: Company, person_id: int | None, mdn: str) -> QuerySet:
    """A number's whole consent history, oldest first: records of the person and records
    of its number (an opt-out from a number not yet known as a person included)."""
    match = Q(person_id=person_id) if person_id is not None else Q(pk__in=[])
    if mdn:
        match |= Q(mdn=mdn)
    return ConsentRecord.objects.filter(company=company).filter(match).order_by("sequence")


def consent_record_payload(record: ConsentRecord, *, company: Company) -> dict:
    """The API shape of SPEC section 13."""
    base = f"/companies/{company.key}"
    list_id = record.subscription_list_id
    campaign_id = record.campaign_id
    return {
        "action": record.action,
        "list": (
            {"id": str(list_id), "url": f"{base}/mobiledb/subscription_lists/{list_id}"}
            if list_id is not None
            else None
        ),
        "campaign": (
            {"id": str(campaign_id), "url": f"{base}/campaigns/acquisition/{campaign_id}"}
            if campaign_id is not None
            else None
        ),
        "channel": record.channel,
        "source": record.source,
        "text": record.text,
        "occurred_at": format_platform_datetime(record.occurred_at),
        "hash": record.hash,
        "previous_hash": record.previous_hash,
    }
