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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from vibesweb.actors import Actor, current_actor
from vibesweb.bulk_sql import NULL, binary_cursor, copy_text
from vibesweb.dates import format_platform_datetime
from vibesweb.tenancy.models import Company

from .models import ConsentChain, ConsentRecord

Action = ConsentRecord.Action
Channel = ConsentRecord.Channel

GENESIS_HASH = "0" * 64

# Opt-outs the carrier reports (a number disconnected or ported away), whoever relays them.
CARRIER_REASONS = frozenset({"disconnect", "failed_at_carrier", "obsolete_carrier"})


class ConsentEntry(NamedTuple):
    """What happened, before it gets its place in the chain (a tuple: an import makes a
    million of them)."""

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
    return ConsentRecord(**dict(zip(LEDGER_COLUMNS, _append(company, [entry])[0], strict=True)))


def consent_records_append(*, company: Company, entries: Iterable[ConsentEntry]) -> int:
    """Append many records in one go (an import chunk): one lock, one insert; how many.

    The records are inserted as plain rows: an import appends a million of them, and
    model instances would cost more than the rest of its work.
    """
    return len(_append(company, list(entries)))


def _append(company: Company, entries: list[ConsentEntry]) -> list[tuple]:
    if not entries:
        return []
    with transaction.atomic():
        chain = _locked_head(company)
        rows = _chained(company.pk, entries, (chain.last_sequence, chain.last_hash))
        _insert(rows)
        _advance(chain, rows)
    return rows


class PreparedRecords(NamedTuple):
    """Records hashed ahead of their transaction (consent_records_prepare)."""

    entries: list[ConsentEntry]
    head: tuple[int, str]  # the chain's head they were hashed after: (sequence, hash)
    rows: list[tuple]  # LEDGER_COLUMNS
    copy_data: bytes | None  # PostgreSQL: the rows as COPY text

    @property
    def last(self) -> tuple[int, str]:
        """The chain's head once these records are appended."""
        return (self.rows[-1][1], self.rows[-1][-1]) if self.rows else self.head


def consent_chain_head(*, company: Company) -> tuple[int, str]:
    """(last sequence, last hash) of `company`'s chain as committed, unlocked."""
    head = (
        ConsentChain.objects.filter(company=company)
        .values_list("last_sequence", "last_hash")
        .first()
    )
    return head or (0, GENESIS_HASH)


def consent_records_prepare(*, company: Company, entries: list[ConsentEntry],
                            head: tuple[int, str], actor: Actor) -> PreparedRecords:  # fmt: skip
    """Hash `entries` as if the chain's head were `head`, without the database (an
    import does it in a thread while the database writes the chunk before).

    `actor`: for entries without one (`current_actor()` is the calling thread's).
    consent_chain_advance refuses them if another append came first, so the chain never
    forks.
    """
    entries = [entry if entry.actor else entry._replace(actor=actor) for entry in entries]
    rows = _chained(company.pk, entries, head)
    return PreparedRecords(entries, head, rows, _copy_data(rows) if _postgres() else None)


def consent_chain_start(*, company: Company) -> tuple[int, str]:
    """consent_chain_head, the chain's row created first if the company has none yet
    (consent_chain_advance moves the head by an UPDATE of that row)."""
    ConsentChain.objects.get_or_create(company=company)
    return consent_chain_head(company=company)


def consent_chain_hold(*, company: Company) -> None:
    """Keep appenders off the chain's head until the caller's transaction ends, but not
    consent_chain_advance (PostgreSQL: FOR KEY SHARE, which the appenders' FOR UPDATE
    waits for and an UPDATE of the head does not; SQLite: nothing, its writer holds the
    whole database).

    A pipelined import's chunks take it before they insert records hashed after a head
    that is not committed yet (consent_records_insert), and move the head last: an
    append meanwhile waits for them to commit, instead of inserting a sequence number
    they inserted and waiting for them while they wait for its lock on the head.
    """
    if _postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {ConsentChain._meta.db_table} WHERE company_id = %s FOR KEY SHARE",
                [company.pk],
            )


def consent_chain_advance(*, company: Company, prepared: PreparedRecords) -> bool:
    """Move the chain's head from `prepared.head` to after `prepared`'s records, locking
    it for the rest of the caller's transaction. False if the head is not
    `prepared.head`: the caller must roll back.

    For writers that commit in turn (a pipelined import): a transaction whose records
    were hashed after another's, still open, inserts them (consent_records_insert,
    holding consent_chain_hold) and then waits here for that one to commit; it finds the
    head elsewhere if that one rolled back instead.
    """
    return _head_moved(company.pk, prepared.head, prepared.last)


def consent_records_insert(*, prepared: PreparedRecords) -> None:
    """Insert `prepared` as hashed, in a transaction that moves the chain's head to their
    end (consent_chain_advance) before it commits."""
    if prepared.entries:
        _insert(prepared.rows, prepared.copy_data)


def _head_moved(company_id: int, head: tuple[int, str], last: tuple[int, str]) -> bool:
    """Move the chain's head from `head` to `last` if `head` is the head: one statement
    instead of _locked_head's lookup, lock and save, and like it, it locks the row for
    the rest of the transaction. False if the head is elsewhere (it stays there) or the
    company's chain has no row.

    The row is found by the company alone and compared in SET: a transaction holding it
    is waited for, and then the head it committed is the one compared (PostgreSQL
    evaluates SET on that row version). Matched in WHERE, a head that such a transaction
    moves to `head` only as it commits (a pipelined import's chunk before) would not be
    waited for at all: the row as the statement began does not match.
    """
    table = ConsentChain._meta.db_table
    at_head = "last_sequence = %s AND last_hash = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET "
            f"last_sequence = CASE WHEN {at_head} THEN %s ELSE last_sequence END, "
            f"last_hash = CASE WHEN {at_head} THEN %s ELSE last_hash END "
            f"WHERE company_id = %s RETURNING {at_head}",
            [*head, last[0], *head, last[1], company_id, *last],
        )
        row = cursor.fetchone()
    return row is not None and bool(row[0])


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _locked_head(company: Company) -> ConsentChain:
    """The company's chain head, locked for the rest of the transaction."""
    ConsentChain.objects.get_or_create(company=company)
    return ConsentChain.objects.select_for_update().get(pk=company.pk)


def _advance(chain: ConsentChain, rows: list[tuple]) -> None:
    chain.last_sequence, chain.last_hash = rows[-1][1], rows[-1][-1]
    chain.save(update_fields=["last_sequence", "last_hash"])


def _chained(company_id: int, entries: list[ConsentEntry], head: tuple[int, str]) -> list[tuple]:
    """The ledger rows (LEDGER_COLUMNS) of `entries`, each hashed after the one before,
    the first after `head` (sequence, hash)."""
    default_actor = current_actor()
    now = timezone.now()
    sequence, previous = head
    moments: dict[datetime, str] = {}  # canonical texts: a chunk's records share a few
    sha256, dumps = hashlib.sha256, orjson.dumps
    rows = []
    for mdn, person_id, action, list_id, campaign_id, actor, occurred_at in entries:
        channel, source, text = actor or default_actor
        occurred_at = occurred_at or now
        moment = moments.get(occurred_at)
        if moment is None:
            moment = moments[occurred_at] = _canonical_time(occurred_at)
        sequence += 1
        mdn = mdn or ""
        # fields_hash's bytes, without its call per record
        hash_ = sha256(dumps((previous, company_id, sequence, mdn, person_id, action, list_id,
                              campaign_id, channel, source, text, moment))).hexdigest()  # fmt: skip
        rows.append((company_id, sequence, mdn, person_id, action, list_id, campaign_id,
                     channel, source, text, occurred_at, previous, hash_))  # fmt: skip
        previous = hash_
    return rows


LEDGER_COLUMNS = (
    "company_id",
    "sequence",
    "mdn",
    "person_id",
    "action",
    "subscription_list_id",
    "campaign_id",
    "channel",
    "source",
    "text",
    "occurred_at",
    "previous_hash",
    "hash",
)
_AT = LEDGER_COLUMNS.index("occurred_at")


def _insert(rows: list[tuple], copy_data: bytes | None = None) -> None:
    """Plain rows of one company, in one statement (a chunk is thousands); `copy_data`:
    the rows as _copy_data wrote them already."""
    table = ConsentRecord._meta.db_table
    at = _AT
    if _postgres():
        copy_sql = f"COPY {table} ({', '.join(LEDGER_COLUMNS)}) FROM STDIN"
        with binary_cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.write(copy_data if copy_data is not None else _copy_data(rows))
        return
    time_field = ConsentRecord._meta.get_field("occurred_at")
    # Most rows of a chunk share one moment: convert each distinct one once.
    times = {moment: time_field.get_db_prep_save(moment, connection) for moment in
             {row[at] for row in rows}}  # fmt: skip
    # SQLite: one statement whose rows come from one JSON parameter, 30% cheaper than
    # executemany, which binds every value of every row through Python.
    payload = orjson.dumps([(*row[1:at], times[row[at]], *row[at + 1 :]) for row in rows])
    values = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(LEDGER_COLUMNS) - 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(LEDGER_COLUMNS)}) "
            f"SELECT %s, {values} FROM json_each(%s)",
            [rows[0][0], payload.decode()],
        )


def _copy_data(rows: list[tuple]) -> bytes:
    """The rows as COPY's text format, a line each, built in one go (LEDGER_COLUMNS)."""
    times = {moment: moment.isoformat() for moment in {row[_AT] for row in rows}}
    text, null = copy_text, NULL
    # Numbers inline: a function call per value was a fifth of the line's cost.
    lines = [
        f"{company_id}\t{sequence}\t{text(mdn)}\t{null if person_id is None else person_id}\t"
        f"{text(action)}\t{null if list_id is None else list_id}\t"
        f"{null if campaign_id is None else campaign_id}\t{text(channel)}\t{text(source)}\t"
        f"{text(words)}\t{times[occurred_at]}\t{previous}\t{hash_}\n"
        for (company_id, sequence, mdn, person_id, action, list_id, campaign_id, channel,
             source, words, occurred_at, previous, hash_) in rows
    ]  # fmt: skip
    return "".join(lines).encode()


def record_hash(record: ConsentRecord) -> str:
    """The hash `record` must carry: see fields_hash."""
    fields = tuple(getattr(record, name) for name in LEDGER_COLUMNS[:-2])
    return fields_hash(record.previous_hash, fields)


def fields_hash(previous_hash: str, fields: tuple) -> str:
    """SHA-256 over a record's fields (in LEDGER_COLUMNS order) and its predecessor's hash."""
    *values, occurred_at = fields
    # The JSON array [previous_hash, *values, time] in UTF-8 without spaces: the bytes
    # `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` wrote for the records
    # hashed before, ten times cheaper (tests/consent/test_ledger.py holds them equal).
    encoded = orjson.dumps((previous_hash, *values, _canonical_time(occurred_at)))
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
