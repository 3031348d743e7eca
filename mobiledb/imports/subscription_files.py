"""Subscription files through the import engine (SPEC section 13): `.subscriptions`
(opt-ins) and `.opt_outs`.

They share the `.persons` file rules (header block, delimiters, encodings, RFC 4180), the
PersonImport record (checkpoint, lease, cancel, progress, error report, Celery task,
admin upload) and its chunk-per-transaction contract: each chunk writes its
subscriptions, their consent ledger records (channel `import`, the file and row as the
source) and their callbacks in bulk, with the checkpoint, in one transaction. A row is
applied whole or reported in the error report.

Identification: `person_key`, then `external_person_id`, then `mdn`. A `.subscriptions`
row whose MDN is new creates the person; an `.opt_outs` row for an unknown number is
recorded in the ledger (it is not an error). An `.opt_outs` row without
`subscription_list_id` opts the number out of every list and silences it, as a STOP does.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from callbacks.services import callback_events_emit_bulk
from vibesweb.actors import Actor
from vibesweb.errors import DomainError
from vibesweb.inputs import parse_id

from ..errors import InvalidImportFileFormat, PersonNotFound
from ..persons.models import Person
from ..persons.services import person_add
from ..subscriptions.consent import ConsentEntry, consent_records_append
from ..subscriptions.models import (
    ConsentRecord,
    Subscription,
    SubscriptionList,
    SuppressedNumber,
)
from ..subscriptions.services import (
    SubscriptionListArchived,
    SubscriptionListNotFound,
    subscription_added_body,
    subscription_removed_body,
)
from ..validation import normalize_mdn
from .checkpoint import ImportStopped, lease
from .engine import CHUNK_SIZE
from .models import PersonImport, PersonImportError
from .parser import PersonsFile, check_encoding
from .report import original_row
from .rows import unescape_cell

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"
OPT_OUTS = "opt_outs"
_IDENTIFIERS = ("person_key", "external_person_id", "mdn")
_COLUMNS = {
    SUBSCRIPTIONS: {*_IDENTIFIERS, "subscription_list_id", "opt_in_date", "source"},
    OPT_OUTS: {*_IDENTIFIERS, "subscription_list_id", "opt_out_reason"},
}
_OPT_OUT_REASONS = frozenset(Subscription.OptOutReason.values)
# A file that does not say why: the numbers were opted out in bulk.
DEFAULT_OPT_OUT_REASON = Subscription.OptOutReason.BULK_OPT_OUT


class MissingIdentifier(DomainError):
    error_class = "SubscriptionErrors::MissingIdentifier"
    default_message = "The row names no mdn, person_key or external_person_id"


class InvalidOptInDate(DomainError):
    error_class = "SubscriptionErrors::InvalidOptInDate"
    default_message = "Invalid opt_in_date"


class InvalidOptOutReason(DomainError):
    error_class = "SubscriptionErrors::InvalidOptOutReason"
    default_message = "Invalid opt_out_reason"


def file_kind(file_name: str) -> str | None:
    """`subscriptions` or `opt_outs` by the file's extension; None for anything else."""
    name = file_name.lower()
    if name.endswith(".subscriptions"):
        return SUBSCRIPTIONS
    if name.endswith(".opt_outs"):
        return OPT_OUTS
    return None


@dataclass(frozen=True, slots=True)
class PersonRef:
    """The little of a person a subscription file needs (model instances cost more than
    the rest of the row's work)."""

    pk: int
    mdn: str | None
    external_person_id: str | None


@dataclass
class SubscriptionRow:
    line: int
    cells: list[str]
    identifier: str  # which column identifies the person
    value: str
    list_id: int | None
    opt_in_date: datetime | None = None
    source: str = ""
    reason: str = DEFAULT_OPT_OUT_REASON
    person: PersonRef | None = None


class SubscriptionFileRun:
    """Applies a subscription file from its checkpoint on; the caller holds the lease."""

    def __init__(self, person_import: PersonImport, *, lease_token: str,
                 chunk_size: int = CHUNK_SIZE, on_chunk: Callable | None = None):  # fmt: skip
        self.person_import = person_import
        self.kind = person_import.kind
        self.lease_token = lease_token
        self.chunk_size = chunk_size
        self.on_chunk = on_chunk
        self.company = person_import.company
        self.now = timezone.now()

    def run(self) -> None:
        """Raises a DomainError for a file-level problem (nothing after it is applied)."""
        with open(self.person_import.file_path, "rb") as stream:
            check_encoding(stream)
            persons_file = PersonsFile(stream)
            self.delimiter = persons_file.layout.delimiter
            self.columns = self._checked_columns(persons_file.layout.columns)
            records = persons_file.records()
            for _ in itertools.islice(records, self.person_import.records_done):
                pass  # resume: these are in the database already
            while chunk := list(itertools.islice(records, self.chunk_size)):
                self._commit(chunk, stream.tell())
                if self.on_chunk is not None:
                    self.on_chunk(self.person_import)

    def _checked_columns(self, columns: list[str]) -> dict[str, int]:
        allowed = _COLUMNS[self.kind]
        unknown = [column for column in columns if column not in allowed]
        if unknown:
            raise InvalidImportFileFormat(
                f"Unknown column '{unknown[0][:60]}' in a .{self.kind} file "
                f"(columns: {', '.join(sorted(allowed))})"
            )
        if not set(columns) & set(_IDENTIFIERS):
            raise InvalidImportFileFormat(
                "Couldn't find an mdn, person_key or external_person_id column"
            )
        if self.kind == SUBSCRIPTIONS and "subscription_list_id" not in columns:
            raise InvalidImportFileFormat("A .subscriptions file needs a subscription_list_id")
        return {name: position for position, name in enumerate(columns)}

    # --- one chunk ------------------------------------------------------------------------

    def _commit(self, chunk: list, position: int) -> None:
        try:
            with transaction.atomic():
                self._checkpoint(*self._apply(chunk), len(chunk), position)
        except IntegrityError:
            # A concurrent writer subscribed one of these persons meanwhile: one row per
            # transaction, so only a row that truly conflicts fails.
            logger.info("import %s: chunk replayed row by row", self.person_import.pk)
            for record in chunk:
                with transaction.atomic():
                    self._checkpoint(*self._apply([record]), 1, position)
        self._mirror()

    def _apply(self, chunk: list) -> tuple[int, int, list]:
        rows, errors = [], []
        for line, cells in chunk:
            try:
                rows.append(self._read(line, cells))
            except DomainError as error:
                errors.append((line, error, cells))
        lists = self._lists({row.list_id for row in rows if row.list_id is not None})
        rows = self._with_persons(rows, lists, errors)
        if self.kind == SUBSCRIPTIONS:
            created, unchanged = self._subscribe(rows, lists)
        else:
            created, unchanged = self._opt_out(rows)
        return created, unchanged, errors

    def _read(self, line: int, cells: list[str]) -> SubscriptionRow:
        columns = self.columns
        cells = [unescape_cell(cell) for cell in cells]
        cells += [""] * (len(columns) - len(cells))

        def cell(name: str) -> str:
            at = columns.get(name)
            return cells[at].strip() if at is not None else ""

        identifier = next((name for name in _IDENTIFIERS if cell(name)), None)
        if identifier is None:
            raise MissingIdentifier()
        value = cell(identifier)
        if identifier == "mdn":
            value = normalize_mdn(value, api_version=2)
        elif identifier == "person_key":
            value = value.lower()
        list_text = cell("subscription_list_id")
        list_id = parse_id(list_text) if list_text else None
        if list_text and list_id is None:
            raise SubscriptionListNotFound(f"Subscription list {list_text[:40]!r} not found")
        row = SubscriptionRow(line, cells, identifier, value, list_id)
        if self.kind == SUBSCRIPTIONS:
            if row.list_id is None:
                raise SubscriptionListNotFound("The row names no subscription_list_id")
            row.opt_in_date = _opt_in_date(cell("opt_in_date"), self.now)
            row.source = cell("source")[:500]
        else:
            reason = cell("opt_out_reason") or DEFAULT_OPT_OUT_REASON
            if reason not in _OPT_OUT_REASONS:
                raise InvalidOptOutReason(f"Unknown opt_out_reason '{reason[:40]}'")
            row.reason = reason
        return row

    def _lists(self, list_ids: set[int]) -> dict[int, SubscriptionList]:
        # Company-scoped: another company's list id is "not found", like an unknown one.
        found = SubscriptionList.objects.filter(company=self.company, pk__in=list_ids)
        return {item.pk: item for item in found}

    def _with_persons(self, rows: list, lists: dict, errors: list) -> list[SubscriptionRow]:
        by_column = {name: set() for name in _IDENTIFIERS}
        for row in rows:
            by_column[row.identifier].add(row.value)
        known = {}
        for name, values in by_column.items():
            if values:
                found = Person.objects.filter(company=self.company, **{f"{name}__in": values}).only(
                    "id", "company_id", "mdn", "external_person_id", "person_key"
                )
                known.update(((name, _lookup_key(name, getattr(p, name))), p) for p in found)
        kept = []
        for row in rows:
            row.person = known.get((row.identifier, _lookup_key(row.identifier, row.value)))
            try:
                self._check_row(row, lists)
            except DomainError as error:
                errors.append((row.line, error, row.cells))
                continue
            kept.append(row)
        return kept

    def _check_row(self, row: SubscriptionRow, lists: dict) -> None:
        if row.list_id is not None:
            subscription_list = lists.get(row.list_id)
            if subscription_list is None:
                raise SubscriptionListNotFound(f"Subscription list {row.list_id} not found")
            if self.kind == SUBSCRIPTIONS and subscription_list.archived:
                raise SubscriptionListArchived()
        if row.person is None and (self.kind == SUBSCRIPTIONS or row.identifier != "mdn"):
            if row.identifier != "mdn":
                raise PersonNotFound(f"No person with {row.identifier} '{row.value[:64]}'")
            # A new number subscribing: it becomes a person (with person_added).
            person, _ = person_add(company=self.company, mdn=row.value)
            row.person = PersonRef(person.pk, person.mdn, person.external_person_id)

    def _actor(self, row: SubscriptionRow) -> Actor:
        source = f"import {self.person_import.file_name} row {row.line}"
        if row.source:
            source += f"; collected at: {row.source}"
        return Actor(channel=ConsentRecord.Channel.IMPORT, source=source)

    def _subscribe(self, rows: list[SubscriptionRow], lists: dict) -> tuple[int, int]:
        active = set(
            Subscription.objects.filter(
                company=self.company,
                person_id__in=[row.person.pk for row in rows],
                opt_out_date__isnull=True,
            ).values_list("person_id", "subscription_list_id")
        )
        new, entries, unchanged = [], [], 0
        for row in rows:
            pair = (row.person.pk, row.list_id)
            if pair in active:
                unchanged += 1
                continue
            active.add(pair)
            subscription = Subscription(
                company=self.company,
                person_id=row.person.pk,
                subscription_list=lists[row.list_id],
                opt_in_date=row.opt_in_date,
            )
            new.append((subscription, row.person))
            entries.append(
                ConsentEntry(
                    mdn=row.person.mdn or "",
                    person_id=row.person.pk,
                    action=ConsentRecord.Action.OPT_IN,
                    subscription_list_id=row.list_id,
                    actor=self._actor(row),
                    occurred_at=row.opt_in_date,
                )
            )
        Subscription.objects.bulk_create(subscription for subscription, _ in new)
        consent_records_append(company=self.company, entries=entries)
        # A new opt-in is new consent: an earlier STOP of these numbers no longer holds.
        SuppressedNumber.objects.filter(
            company=self.company, mdn__in={p.mdn for _, p in new if p.mdn}
        ).delete()
        company = self.company
        callback_events_emit_bulk(
            company=company,
            callback_type="subscription_added",
            items=(
                (p.pk, lambda v, s=s, p=p: subscription_added_body(s, company=company, person=p))
                for s, p in new
            ),
        )
        return len(new), unchanged

    def _opt_out(self, rows: list[SubscriptionRow]) -> tuple[int, int]:
        persons = {row.person.pk: row.person for row in rows if row.person is not None}
        # person -> its active subscriptions as (id, list id, opt-in date, campaign id)
        active: dict[int, list[tuple]] = {}
        for subscription_id, person_id, *rest in (
            Subscription.objects.filter(
                company=self.company, person_id__in=persons, opt_out_date__isnull=True
            )
            .order_by("id")
            .values_list(
                "id", "person_id", "subscription_list_id", "opt_in_date", "acquisition_campaign_id"
            )
        ):
            active.setdefault(person_id, []).append((subscription_id, *rest))
        ended, entries, silenced, unchanged = [], [], {}, 0
        for row in rows:
            mine = active.get(row.person.pk, []) if row.person is not None else []
            if row.list_id is not None:
                mine = [s for s in mine if s[1] == row.list_id]
            for subscription in mine:
                ended.append((row, subscription))
                entries.append(self._opt_out_entry(row, subscription[1]))
            if mine:
                ended_ids = {s[0] for s in mine}
                active[row.person.pk] = [s for s in active[row.person.pk] if s[0] not in ended_ids]
            else:
                unchanged += 1
                entries.append(self._opt_out_entry(row, row.list_id))
            mdn = row.person.mdn if row.person is not None else row.value
            if row.list_id is None and mdn:
                silenced.setdefault(mdn, set()).update(s[1] for s in mine)
        by_reason: dict[str, list[int]] = {}
        for row, subscription in ended:
            by_reason.setdefault(row.reason, []).append(subscription[0])
        for reason, ids in by_reason.items():
            Subscription.objects.filter(pk__in=ids).update(
                opt_out_date=self.now, opt_out_reason=reason
            )
        consent_records_append(company=self.company, entries=entries)
        self._silence(silenced)
        callback_events_emit_bulk(
            company=self.company,
            callback_type="subscription_removed",
            items=((row.person.pk, self._removed_body(row, s)) for row, s in ended),
        )
        return len(rows) - unchanged, unchanged

    def _removed_body(self, row: SubscriptionRow, subscription: tuple):
        subscription_id, list_id, opt_in_date, campaign_id = subscription
        ended = Subscription(
            pk=subscription_id,
            company=self.company,
            person_id=row.person.pk,
            subscription_list_id=list_id,
            opt_in_date=opt_in_date,
            opt_out_date=self.now,
            opt_out_reason=row.reason,
            acquisition_campaign_id=campaign_id,
        )
        company = self.company
        return lambda api_version: subscription_removed_body(
            ended, company=company, person=row.person
        )

    def _opt_out_entry(self, row: SubscriptionRow, list_id: int | None) -> ConsentEntry:
        return ConsentEntry(
            mdn=row.person.mdn if row.person is not None else row.value,
            person_id=row.person.pk if row.person is not None else None,
            action=ConsentRecord.Action.OPT_OUT,
            subscription_list_id=list_id,
            actor=self._actor(row),
            occurred_at=self.now,
        )

    def _silence(self, silenced: dict[str, set[int]]) -> None:
        """Numbers opted out of every list: nothing more is sent to them (as after STOP)."""
        if not silenced:
            return
        existing = {
            item.mdn: item
            for item in SuppressedNumber.objects.filter(
                company=self.company, mdn__in=silenced
            ).only("mdn", "ended_list_ids")
        }
        table = SuppressedNumber._meta.db_table
        created_at = SuppressedNumber._meta.get_field("created_at").get_db_prep_save(
            self.now, connection
        )
        with connection.cursor() as cursor:  # plain rows: an import silences millions
            cursor.executemany(
                f"INSERT INTO {table} (company_id, mdn, ended_list_ids, created_at) "
                "VALUES (%s, %s, %s, %s)",
                [
                    (self.company.pk, mdn, json.dumps(sorted(ended)), created_at)
                    for mdn, ended in silenced.items()
                    if mdn not in existing
                ],
            )
        for mdn, item in existing.items():
            merged = sorted(set(item.ended_list_ids) | silenced[mdn])
            if merged != item.ended_list_ids:
                SuppressedNumber.objects.filter(pk=item.pk).update(ended_list_ids=merged)

    # --- checkpoint -------------------------------------------------------------------------

    def _checkpoint(self, created: int, unchanged: int, errors: list, records: int,
                    position: int) -> None:  # fmt: skip
        """Error rows and the checkpoint, in the chunk's transaction; ImportStopped if lost."""
        if errors:
            reader = _Delimited(self.delimiter)
            PersonImportError.objects.bulk_create(
                PersonImportError(
                    person_import_id=self.person_import.pk,
                    row=line,
                    error_class=error.error_class,
                    message=type(error).default_message[:255],
                    detail=error.message if error.message != type(error).default_message else "",
                    original=original_row(cells, reader),
                )
                for line, error, cells in errors
            )
        changed = PersonImport.objects.filter(
            pk=self.person_import.pk, lease_token=self.lease_token, cancel_requested=False
        ).update(
            records_done=F("records_done") + records,
            rows=F("rows") + records,
            created=F("created") + created,
            updated=F("updated") + unchanged,
            failed=F("failed") + len(errors),
            bytes_done=position,
            lease_expires_at=timezone.now() + lease(),
        )
        if changed != 1:
            raise ImportStopped()
        self._pending = (records, created, unchanged, len(errors), position)

    def _mirror(self) -> None:
        records, created, unchanged, failed, position = self._pending
        pi = self.person_import
        pi.records_done += records
        pi.rows += records
        pi.created += created
        pi.updated += unchanged
        pi.failed += failed
        pi.bytes_done = position


def _lookup_key(column: str, value) -> str:
    # A person key is a UUID, written with or without hyphens.
    return str(value).replace("-", "") if column == "person_key" else str(value)


@dataclass(frozen=True)
class _Delimited:
    file_delimiter: str


def _opt_in_date(text: str, now: datetime) -> datetime:
    if not text:
        return now
    try:
        moment = parse_datetime(text) or _midnight(parse_date(text))
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidOptInDate(f"opt_in_date '{text[:40]}' is not an ISO 8601 date or time")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    if moment > now:
        raise InvalidOptInDate(f"opt_in_date '{text[:40]}' is in the future")
    return moment


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time()) if day is not None else None
