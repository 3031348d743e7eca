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
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import BinaryIO, NamedTuple

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from callbacks.services import callback_events_emit_bulk
from vibesweb.actors import Actor, current_actor
from vibesweb.errors import DomainError
from vibesweb.inputs import parse_id

from ..errors import InvalidImportFileFormat, PersonNotFound
from ..persons.services import person_add
from ..subscriptions.consent import (
    ConsentEntry,
    PreparedRecords,
    consent_chain_advance,
    consent_chain_head,
    consent_chain_hold,
    consent_chain_start,
    consent_records_append,
    consent_records_insert,
    consent_records_prepare,
)
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
from .checkpoint import Checkpoint
from .engine import CHUNK_MAX_WEIGHT, no_cyclic_garbage_collection, quick_thread_switches
from .models import PersonImport
from .parser import PersonsFile, check_encoding
from .rows import unescape_cell
from .store import PersonStore, RowChanged
from .subscription_store import (
    numbers_silence,
    numbers_silence_copy,
    persons_with_active_subscriptions,
    silenced_copy_data,
    stored_time,
    subscriptions_end,
)

logger = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"
OPT_OUTS = "opt_outs"
_IDENTIFIERS = ("person_key", "external_person_id", "mdn")
_COLUMNS = {
    SUBSCRIPTIONS: {*_IDENTIFIERS, "subscription_list_id", "opt_in_date", "source"},
    OPT_OUTS: {*_IDENTIFIERS, "subscription_list_id", "opt_out_reason"},
}
_OPT_OUT_REASONS = frozenset(Subscription.OptOutReason.values)
_IMPORT = ConsentRecord.Channel.IMPORT.value
_OPT_OUT = ConsentRecord.Action.OPT_OUT.value
# A file that does not say why: the numbers were opted out in bulk.
DEFAULT_OPT_OUT_REASON = Subscription.OptOutReason.BULK_OPT_OUT
_RETRIES = 3
# Rows a chunk holds: twice the person import's. A subscription file's rows are narrow,
# and each chunk costs the writing connection its round trips and a commit: 10,000 took
# 0.7-0.9 s of 16 off a 1M-row `.opt_outs` import on PostgreSQL, 20,000 nothing more
# (benchmarks/README.md). Fewer once the rows span CHUNK_MAX_WEIGHT bytes (_read_chunk).
CHUNK_SIZE = 10_000
_READ_BATCH = 1_000
# Chunks a pipelined `.opt_outs` import writes at a time on PostgreSQL, each on a
# connection of its own (_run_pipelined).
_WRITERS = 2
# How long a writing thread waits for the chunk before it (to hold the chain, to move its
# head) before it rolls its own chunk back, to be applied again the serial way. A chunk
# takes well under a second; a wait this long means a cycle that PostgreSQL cannot see,
# part of it a thread waiting for a thread (say, another writer of many persons'
# subscriptions holding one of this chunk's and waiting for one of the chunk before's).
_TURN_TIMEOUT_SECONDS = 30


class OutOfTurn(Exception):
    """A pipelined chunk cannot commit in its turn: the chain's head is not where its
    records were hashed after (another append came first, or the chunk before was rolled
    back), or the chunk before took too long (_TURN_TIMEOUT_SECONDS)."""


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


class PersonRef(NamedTuple):
    """The little of a person a subscription file needs (model instances, even frozen
    dataclasses, cost more than the rest of the row's work)."""

    pk: int
    mdn: str | None
    external_person_id: str | None


@dataclass(slots=True)
class SubscriptionRow:
    line: int
    cells: list[str]
    identifier: str  # which column identifies the person
    value: str
    key: str | None  # the identifier as the lookups send it (see _look_up)
    list_id: int | None
    opt_in_date: datetime | None = None
    source: str = ""
    reason: str = DEFAULT_OPT_OUT_REASON
    person: PersonRef | None = None


@dataclass(slots=True)
class _Parsed:
    """A chunk of the file, read: its rows and the rows that failed already."""

    records: list  # (line, cells)
    position: int  # of the file after the chunk
    rows: list[SubscriptionRow]
    errors: list  # (line, DomainError, cells)


@dataclass(slots=True)
class _OptOuts:
    """What a chunk of an `.opt_outs` file changes, worked out without the database."""

    ended: list  # (row, subscription): the subscriptions it ends
    entries: list[ConsentEntry]
    silenced: dict[str, set[int]]  # mdn -> the lists its opt-out ended
    created: int
    unchanged: int
    errors: list
    ledger: PreparedRecords | None = None  # the entries hashed ahead (pipelined runs)
    ended_ids: set[int] = field(default_factory=set)
    ended_by_reason: dict[str, list[int]] = field(default_factory=dict)  # ids to end, by reason
    ended_persons: set[int] = field(default_factory=set)  # whose subscriptions it ends
    silenced_copy: bytes | None = None  # `silenced` as COPY text (pipelined runs)


@dataclass(slots=True, eq=False)
class _Writing:
    """A chunk handed to a writing thread (_run_pipelined, _write_in_turn)."""

    chunk: _Parsed
    plan: _OptOuts
    # Set once it holds the chain from appenders (consent_chain_hold), or has ended.
    holding: threading.Event = field(default_factory=threading.Event)
    # Set once it has moved the chain's head (consent_chain_advance), or has ended.
    turn: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None


def _wait_for(before: _Writing | None, step: str) -> None:
    """Wait until the chunk `before` has taken `step` (or ended); OutOfTurn after
    _TURN_TIMEOUT_SECONDS."""
    if before is not None and not getattr(before, step).wait(_TURN_TIMEOUT_SECONDS):
        raise OutOfTurn()


def _in_the_way(plan: _OptOuts, in_flight: deque[_Writing]) -> bool:
    """Whether `plan` must wait for the chunks in flight to end: it ends subscriptions of
    one of their persons (a writer of that person's subscriptions, a STOP, could hold one
    of them while waiting for another), or silences one of their numbers (the second
    insert of the number waits for the first, which may be waiting for its turn)."""
    return any(not plan.ended_persons.isdisjoint(writing.plan.ended_persons)
               or not plan.silenced.keys().isdisjoint(writing.plan.silenced)
               for writing in in_flight)  # fmt: skip


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
        self.store = PersonStore(self.company.pk)
        # PostgreSQL silences numbers by COPY until one is found silenced already (see
        # _silence); the upsert from then on.
        self.silence_by_copy = self.store.postgres

    def run(self) -> None:
        """Raises a DomainError for a file-level problem (nothing after it is applied)."""
        with open(self.person_import.file_path, "rb") as stream:
            check_encoding(stream)
            persons_file = PersonsFile(stream)
            self.delimiter = persons_file.layout.delimiter
            self.columns = self._checked_columns(persons_file.layout.columns)
            self.width = len(self.columns)
            self.list_at = self.columns.get("subscription_list_id")
            self.reason_at = self.columns.get("opt_out_reason")
            self.identifier_at = [(name, self.columns[name]) for name in _IDENTIFIERS
                                  if name in self.columns]  # fmt: skip
            records = persons_file.records()
            for _ in itertools.islice(records, self.person_import.records_done):
                pass  # resume: these are in the database already

            def parsed() -> Iterator[_Parsed]:
                while chunk := self._read_chunk(records, stream):
                    yield self._parse(chunk, stream.tell())

            # As the person import's pipeline (engine.ImportRun.run), and for its reasons:
            # not inside a caller's transaction, whose savepoints would hold every chunk.
            # Nor on an in-memory SQLite database: shared between connections, it locks
            # whole tables, and the thread's reads would fail beside the writes.
            pipelined = (self.kind == OPT_OUTS and not connection.in_atomic_block
                         and (self.store.postgres or not connection.is_in_memory_db()))  # fmt: skip
            # The person import's run settings (engine.ImportRun.run): statistics fresh,
            # lookups planned as index probes, no cyclic garbage collection.
            self.store.refresh_statistics()
            chunks = parsed()
            with (
                no_cyclic_garbage_collection(),
                quick_thread_switches(),
                self.store.index_probes_only(),
                closing(chunks),
            ):
                if pipelined:
                    with self.store.commits_without_waiting_for_wal():
                        self._run_pipelined(chunks)
                else:
                    for chunk in chunks:
                        self._commit(chunk)
                        self._after_chunk()

    def _read_chunk(self, records: Iterator, stream: BinaryIO) -> list:
        """The next chunk_size records, fewer once they span CHUNK_MAX_WEIGHT bytes of the
        file: a file of long lines must not pile up gigabytes (memory stays flat whatever
        the file, SPEC section 9). Taken in batches, not weighed row by row as the person
        import's wide rows are: a million rows of two cells each would pay for it."""
        start, chunk = stream.tell(), []
        while len(chunk) < self.chunk_size and stream.tell() - start < CHUNK_MAX_WEIGHT:
            wanted = min(_READ_BATCH, self.chunk_size - len(chunk))
            batch = list(itertools.islice(records, wanted))
            chunk += batch
            if len(batch) < wanted:
                break
        return chunk

    def _after_chunk(self) -> None:
        if self.on_chunk is not None:
            self.on_chunk(self.person_import)

    def _run_pipelined(self, chunks: Iterator[_Parsed]) -> None:
        """`.opt_outs`: a thread reads the file and works the chunks out (looks them up on
        a connection of its own and hashes their ledger records), while writing threads
        write them, each chunk in one transaction, committed in the file's order. The
        shape of the person import's pipeline (engine.ImportRun._run_pipelined).

        A chunk is looked up while the chunks before it may still be written: it sees
        what is committed, and the subscriptions that the chunks in flight end are carried
        over (`ended_ids`) and left out. Its ledger records are hashed after the last
        record of the chunk before.

        PostgreSQL writes two chunks at a time, on two connections: one writing backend
        was the import's bottleneck. A chunk ends its subscriptions, holds the chain from
        other appenders (consent_chain_hold), inserts its ledger records, silences its
        numbers and checks its foreign keys while the chunk before is still written;
        then, once that one has moved the chain's head, moves it on
        (consent_chain_advance), which waits for that one to commit. So commits,
        checkpoints and the chain keep the file's order, and an append meanwhile (a STOP)
        waits for the chunks in flight. A chunk that ends subscriptions of a person, or
        silences a number, that the chunk in flight does too waits for it to end first
        (_in_the_way). A 1M-row file: 45-46 s -> 39 s (benchmarks/README.md). SQLite
        writes one chunk at a time.

        Should a chunk fail (another writer ended one of its subscriptions or appended to
        the chain since its lookup; one of its numbers was silenced already), it is rolled
        back, and so is the chunk after it (hashed after records that never were); they
        are applied again the serial way, looked up anew, and the pipeline goes on.

        On SQLite the thread reads what is committed while the write lock is held (the
        write-ahead log), and Python's sqlite3 lets go of the interpreter while SQLite
        works, so the thread's Python runs beside the writes: a 1M-row file took 58-63 s
        serially, 42-43 s so (benchmarks/README.md).
        """
        count = _WRITERS if self.store.postgres else 1
        planner = ThreadPoolExecutor(1, thread_name_prefix="opt-outs-plan")
        writers = [ThreadPoolExecutor(1, thread_name_prefix=f"opt-outs-write-{n}")
                   for n in range(count)]  # fmt: skip
        actor = current_actor()  # the threads have their own context
        in_flight: deque[_Writing] = deque()
        reading = None
        try:
            # Each thread's own connection (Django's are per thread), set up as this one.
            planner.submit(self.store.plan_index_probes).result()
            for writer in writers:
                writer.submit(self.store.plan_writes).result()
            head = consent_chain_start(company=self.company)
            reading = planner.submit(next, chunks, None)
            failure, written = None, 0
            while True:
                try:
                    chunk = reading.result()
                except DomainError as error:  # further on in the file: write what came before
                    failure, chunk = error, None
                if chunk is None:
                    break
                reading = planner.submit(next, chunks, None)
                carried = set().union(*(writing.plan.ended_ids for writing in in_flight))
                plan = planner.submit(self._plan, chunk, actor, head, carried).result()
                stale = False  # planned after a chunk that was rolled back since
                while in_flight and (len(in_flight) == count or _in_the_way(plan, in_flight)):
                    stale = not self._finish_oldest(in_flight) or stale
                if stale:
                    self._commit(chunk)
                    self._after_chunk()
                    head = consent_chain_head(company=self.company)
                    continue
                writing = _Writing(chunk, plan)
                before = in_flight[-1] if in_flight else None
                writing.future = writers[written % count].submit(self._write_in_turn, writing,
                                                                 before)  # fmt: skip
                in_flight.append(writing)
                written += 1
                head = plan.ledger.last
            while in_flight:
                self._finish_oldest(in_flight)
            if failure is not None:
                raise failure
        finally:
            if reading is not None:
                reading.cancel()
            for thread in (planner, *writers):
                # After whatever the thread is doing still: its connection ends with the run.
                thread.submit(_close_connection)
                thread.shutdown(wait=True)

    def _finish_oldest(self, in_flight: deque) -> bool:
        """Wait for the oldest chunk in flight to be written; False if it was rolled back.
        Then so is every chunk in flight after it (see _run_pipelined): they are all
        applied again the serial way, in order, once none is in flight any more."""
        writing = in_flight.popleft()
        checkpoint = writing.future.result()
        if checkpoint is not None:
            checkpoint.mirror(self.person_import)
            self._after_chunk()
            return True
        later = [(other, other.future.result()) for other in in_flight]
        in_flight.clear()
        self._commit(writing.chunk)
        self._after_chunk()
        for other, checkpoint in later:
            if checkpoint is None:
                self._commit(other.chunk)
            else:  # cannot be (its records were hashed after a chunk rolled back): as it is
                checkpoint.mirror(self.person_import)
            self._after_chunk()
        return False

    def _write_in_turn(self, writing: _Writing, before: _Writing | None) -> Checkpoint | None:
        """Write a chunk the planning thread worked out, in one transaction of this writing
        thread's connection, committed after the chunk `before` it, if that one is in
        flight. The chunk's checkpoint, for the caller to mirror; None if it was rolled
        back (to be applied again the serial way)."""
        chunk, plan = writing.chunk, writing.plan
        try:
            with transaction.atomic():
                self._end_subscriptions(plan)
                # Chunks hold the chain in the file's order: a STOP holding a subscription
                # that the chunk before has yet to end must not find this chunk holding
                # the chain too (the STOP would wait for this one, this one for the one
                # before, that one for the STOP).
                _wait_for(before, "holding")
                consent_chain_hold(company=self.company)
                writing.holding.set()
                consent_records_insert(prepared=plan.ledger)
                # No savepoint around the silenced numbers' COPY (two round trips a chunk):
                # a number silenced already fails the chunk, and the serial way's savepoint
                # then switches the run to the upsert (_silence).
                self._silence(plan, savepoint=False)
                self._emit_removed(plan)
                self.store.check_constraints_now()  # not after waiting for the chunk before
                _wait_for(before, "turn")
                moved = consent_chain_advance(company=self.company, prepared=plan.ledger)
                writing.turn.set()  # the chunk after may move it now: it waits for the commit
                if not moved:
                    raise OutOfTurn()
                checkpoint = Checkpoint(len(chunk.records), plan.created, plan.unchanged,
                                        plan.errors, chunk.position)  # fmt: skip
                checkpoint.save(self.person_import, self.lease_token, _Delimited(self.delimiter))
        except (RowChanged, OutOfTurn, IntegrityError, DataError, OperationalError) as error:
            logger.info("import %s: chunk applied again after %s, looked up anew",
                        self.person_import.pk, type(error).__name__)  # fmt: skip
            return None
        finally:
            writing.holding.set()
            writing.turn.set()
        return checkpoint

    def _plan(self, chunk: _Parsed, actor: Actor, head: tuple[int, str],
              carried: set[int]) -> _OptOuts:  # fmt: skip
        """Look `chunk` up and work it out (the planning thread), its ledger records hashed
        after `head`; `carried`: subscriptions that the chunks in flight end."""
        lists, active = self._found(chunk.rows, self._fetch(chunk))
        if carried:
            active = {pk: [s for s in found if s[0] not in carried]
                      for pk, found in active.items()}  # fmt: skip
        errors = list(chunk.errors)
        rows = self._checked(chunk.rows, lists, errors)
        planned = self._plan_opt_outs(rows, active, errors)
        planned.ledger = consent_records_prepare(company=self.company, entries=planned.entries,
                                                 head=head, actor=actor)  # fmt: skip
        if self.silence_by_copy:
            planned.silenced_copy = silenced_copy_data(self.company.pk, planned.silenced,
                                                       self.now)  # fmt: skip
        return planned

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

    def _commit(self, chunk: _Parsed) -> None:
        """Apply and write `chunk` in one transaction, looked up inside it."""
        for attempt in range(_RETRIES):
            try:
                with transaction.atomic():
                    self.store.begin_chunk()  # its commit need not wait for the WAL: see there
                    self._checkpoint(*self._apply(chunk), len(chunk.records), chunk.position)
                break
            except RowChanged:
                # Another writer ended one of the chunk's subscriptions since its lookup.
                if attempt == _RETRIES - 1:
                    raise
                logger.info("import %s: chunk retried", self.person_import.pk)
            except IntegrityError:
                # A concurrent writer subscribed one of these persons meanwhile: one row per
                # transaction, so only a row that truly conflicts fails.
                logger.info("import %s: chunk replayed row by row", self.person_import.pk)
                for record in chunk.records:
                    with transaction.atomic():
                        one = self._parse([record], chunk.position)
                        self._checkpoint(*self._apply(one), 1, chunk.position)
                    self._pending.mirror(self.person_import)
                return
        self._pending.mirror(self.person_import)

    def _parse(self, records: list, position: int) -> _Parsed:
        rows, errors = [], []
        read = self._read
        for line, cells in records:
            try:
                rows.append(read(line, cells))
            except DomainError as error:
                errors.append((line, error, cells))
        return _Parsed(records, position, rows, errors)

    def _apply(self, chunk: _Parsed) -> tuple[int, int, list]:
        errors = list(chunk.errors)
        lists, active = self._look_up(chunk)
        rows = self._checked(chunk.rows, lists, errors)
        if self.kind == SUBSCRIPTIONS:
            created, unchanged = self._subscribe(rows, lists, active)
            return created, unchanged, errors
        plan = self._plan_opt_outs(rows, active, errors)
        self._write_opt_outs(plan)
        return plan.created, plan.unchanged, plan.errors

    def _read(self, line: int, cells: list[str]) -> SubscriptionRow:
        # A cell's leading quote (a spreadsheet's text marker) is rare: one search of the
        # row's text spares a test per cell (a million rows).
        if "'" in "".join(cells):
            cells = [unescape_cell(cell) if cell[:1] == "'" else cell for cell in cells]
        if len(cells) < self.width:
            cells += [""] * (self.width - len(cells))
        for identifier, at in self.identifier_at:  # noqa: B007 - the one found is used
            value = cells[at].strip()
            if value:
                break
        else:
            raise MissingIdentifier()
        key = value
        if identifier == "mdn":
            value = key = normalize_mdn(value, api_version=2)
        elif identifier == "person_key":
            value = value.lower()
            key = _key_hex(value)
        list_id = None
        if self.list_at is not None and (list_text := cells[self.list_at].strip()):
            list_id = parse_id(list_text)
            if list_id is None:
                raise SubscriptionListNotFound(f"Subscription list {list_text[:40]!r} not found")
        row = SubscriptionRow(line, cells, identifier, value, key, list_id)
        if self.kind == SUBSCRIPTIONS:
            if row.list_id is None:
                raise SubscriptionListNotFound("The row names no subscription_list_id")
            row.opt_in_date = _opt_in_date(self._cell(cells, "opt_in_date"), self.now)
            row.source = self._cell(cells, "source")[:500]
        elif self.reason_at is not None and (reason := cells[self.reason_at].strip()):
            if reason not in _OPT_OUT_REASONS:
                raise InvalidOptOutReason(f"Unknown opt_out_reason '{reason[:40]}'")
            row.reason = reason
        return row

    def _cell(self, cells: list[str], name: str) -> str:
        at = self.columns.get(name)
        return cells[at].strip() if at is not None else ""

    def _lists(self, list_ids: set[int]) -> dict[int, SubscriptionList]:
        if not list_ids:  # a file of "every list" (a do-not-text file) names none
            return {}
        # Company-scoped: another company's list id is "not found", like an unknown one.
        found = SubscriptionList.objects.filter(company=self.company, pk__in=list_ids)
        return {item.pk: item for item in found}

    def _look_up(self, chunk: _Parsed) -> tuple[dict, dict[int, list[tuple]]]:
        return self._found(chunk.rows, self._fetch(chunk))

    def _fetch(self, chunk: _Parsed) -> tuple[dict, dict[str, list]]:
        """The lookup's statements (one per kind of identifier): the lists the rows name,
        and per identifier column what persons_with_active_subscriptions found. The rest
        (_found) needs no database: a pipelined run does it in its thread."""
        lists = self._lists({row.list_id for row in chunk.rows if row.list_id is not None})
        by_column: dict[str, set[str]] = {}
        for row in chunk.rows:
            if row.key is not None:  # None: a malformed person_key, found nowhere
                by_column.setdefault(row.identifier, set()).add(row.key)
        company_id = self.company.pk
        return lists, {
            column: persons_with_active_subscriptions(company_id, column, list(values))
            for column, values in by_column.items()
        }

    def _found(self, rows: list[SubscriptionRow], fetched: tuple
               ) -> tuple[dict, dict[int, list[tuple]]]:  # fmt: skip
        """Set each row's person; returns the lists the rows name, and each found person's
        active subscriptions as (id, list id, opt-in date, campaign id)."""
        lists, by_column = fetched
        persons: dict[str, dict[str, PersonRef]] = {}
        active: dict[int, list[tuple]] = {}
        for column, found in by_column.items():
            by_key = persons[column] = {}
            for key, pk, mdn, external_id, subscription_id, *subscription in found:
                by_key[key] = PersonRef(pk, mdn, external_id)
                if subscription_id is None:
                    active.setdefault(pk, [])
                else:
                    active.setdefault(pk, []).append((subscription_id, *subscription))
        nobody: dict[str, PersonRef] = {}
        for row in rows:
            row.person = persons.get(row.identifier, nobody).get(row.key)
        return lists, active

    def _checked(self, rows: list, lists: dict, errors: list) -> list[SubscriptionRow]:
        kept = []
        for row in rows:
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
        return Actor(channel=_IMPORT, source=source)

    def _subscribe(self, rows: list[SubscriptionRow], lists: dict,
                   subscriptions: dict[int, list[tuple]]) -> tuple[int, int]:  # fmt: skip
        active = {(pk, s[1]) for pk, mine in subscriptions.items() for s in mine}
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

    def _plan_opt_outs(self, rows: list[SubscriptionRow], active: dict[int, list[tuple]],
                       errors: list) -> _OptOuts:  # fmt: skip
        """`active`: person id -> its active subscriptions as (id, list id, opt-in date,
        campaign id), in id order. No database access (a thread runs it)."""
        ended, entries, silenced, unchanged = [], [], {}, 0
        now, source = self.now, f"import {self.person_import.file_name} row "
        entry = ConsentEntry
        for row in rows:
            person, list_id = row.person, row.list_id
            actor = Actor(_IMPORT, source + str(row.line))
            if person is None:  # an unknown number: recorded (and silenced) all the same
                mdn, mine = row.value, ()
                entries.append(entry(mdn, None, _OPT_OUT, list_id, None, actor, now))
            else:
                mdn, mine = person.mdn, active.get(person.pk, ())
                if list_id is not None:
                    mine = [s for s in mine if s[1] == list_id]
                for subscription in mine:
                    ended.append((row, subscription))
                    entries.append(entry(mdn, person.pk, _OPT_OUT, subscription[1], None, actor,
                                         now))  # fmt: skip
                if mine:
                    ended_ids = {s[0] for s in mine}
                    active[person.pk] = [s for s in active[person.pk] if s[0] not in ended_ids]
                else:
                    entries.append(entry(mdn, person.pk, _OPT_OUT, list_id, None, actor, now))
            if not mine:
                unchanged += 1
            if list_id is None and mdn:
                ended_lists = silenced.get(mdn)
                if ended_lists is None:
                    ended_lists = silenced[mdn] = set()
                if mine:
                    ended_lists.update(s[1] for s in mine)
        by_reason: dict[str, list[int]] = {}
        for row, subscription in ended:
            by_reason.setdefault(row.reason, []).append(subscription[0])
        return _OptOuts(ended, entries, silenced, len(rows) - unchanged, unchanged, errors,
                        ended_ids={s[0] for _, s in ended},
                        ended_persons={row.person.pk for row, _ in ended},
                        ended_by_reason=by_reason)  # fmt: skip

    def _write_opt_outs(self, plan: _OptOuts) -> None:
        """The chunk's writes (the serial way); RowChanged if one of its subscriptions is
        no longer active."""
        self._end_subscriptions(plan)
        consent_records_append(company=self.company, entries=plan.entries)
        # Numbers opted out of every list: nothing more is sent to them (as after STOP).
        self._silence(plan)
        self._emit_removed(plan)

    def _end_subscriptions(self, plan: _OptOuts) -> None:
        """RowChanged if one of them is no longer active (another writer ended it since
        the chunk's lookup)."""
        for reason, ids in plan.ended_by_reason.items():
            if subscriptions_end(ids, reason, self.now) != len(ids):
                raise RowChanged()

    def _emit_removed(self, plan: _OptOuts) -> None:
        callback_events_emit_bulk(
            company=self.company,
            callback_type="subscription_removed",
            items=((row.person.pk, self._removed_body(row, s)) for row, s in plan.ended),
        )

    def _silence(self, plan: _OptOuts, *, savepoint: bool = True) -> None:
        """Silence the chunk's numbers: by COPY while the import finds none silenced
        already (a file of new numbers), in a savepoint; by the upsert once one is (a
        re-run of a file, a number twice in the file, a STOP meanwhile: the COPY fails on
        the primary key (company, mdn) and its savepoint is rolled back). Without
        `savepoint`, that failure fails the chunk's transaction (IntegrityError).

        Measured (benchmarks/README.md): a COPY costs the server a fifth less than the
        upsert; a lookup of the numbers to COPY only the new ones cost as much as it saved.
        """
        if self.silence_by_copy and plan.silenced:
            data = plan.silenced_copy
            if data is None:
                data = silenced_copy_data(self.company.pk, plan.silenced, self.now)
            if not savepoint:
                numbers_silence_copy(data)
                return
            try:
                with transaction.atomic():
                    numbers_silence_copy(data)
                return
            except IntegrityError:
                self.silence_by_copy = False
                logger.info("import %s: a number silenced already: upserts from here on",
                            self.person_import.pk)  # fmt: skip
        numbers_silence(self.company.pk, plan.silenced, self.now)

    def _removed_body(self, row: SubscriptionRow, subscription: tuple):
        subscription_id, list_id, opt_in_date, campaign_id = subscription
        opt_in_date = stored_time(opt_in_date)
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

    # --- checkpoint -------------------------------------------------------------------------

    def _checkpoint(self, created: int, unchanged: int, errors: list, records: int,
                    position: int) -> None:  # fmt: skip
        """Error rows and the checkpoint, in the chunk's transaction; ImportStopped if lost."""
        self._pending = Checkpoint(records, created, unchanged, errors, position)
        self._pending.save(self.person_import, self.lease_token, _Delimited(self.delimiter))


def _close_connection() -> None:
    """Close the calling thread's connection (`connection.close` looked up in another
    thread is that thread's, which Django refuses to close from this one)."""
    connection.close()


def _key_hex(person_key: str) -> str | None:
    """A person key (a UUID, with or without hyphens) as the lookups send it; None if it
    is no UUID (no person has it)."""
    try:
        return uuid.UUID(person_key).hex
    except ValueError:
        return None


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
