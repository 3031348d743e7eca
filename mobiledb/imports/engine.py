"""Running a PersonImport: stream the file, apply it a chunk at a time, checkpoint each.

Each chunk is one transaction holding its persons' writes, its error rows, its callback
events and the import's checkpoint (counters and `records_done`), so whatever happens
to the worker the database shows whole chunks only, and a resumed run skips exactly the
records already applied. A chunk the bulk path cannot write (a unique constraint broken
by a concurrent writer) is replayed one row per transaction.

On PostgreSQL the chunks flow through a pipeline, so the database and Python work at
the same time instead of in turn: while chunk K is written, chunk K+1 (looked up once
K-1 committed, while K was still being applied) is applied in a thread. That lookup cannot
see K's writes, so K's final view is carried over and wins over it (ChunkResult.carry).
Rows are not locked between a lookup and its write: each update names the row version
it read and is refused if another writer changed the row meanwhile; a chunk whose
write fails so is applied again the safe way, with its rows locked (`_commit`), and the
pipeline restarts after it. SQLite has one writer at a time and goes chunk by chunk, as
does PostgreSQL inside a caller's transaction.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import DataError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from vibesweb.errors import DomainError

from ..errors import ExternalIdAlreadyAssigned, ImportRowRefused, MobilePhoneAlreadyAssigned
from ..persons.selectors import custom_field_schema
from .callbacks import emit_chunk_callbacks
from .carrier import carrier_lookup
from .checkpoint import Checkpoint
from .chunk import ChunkApplier, ChunkResult, Found
from .models import PersonImport
from .parser import PersonsFile, check_encoding
from .rows import RowReader
from .store import PersonStore, RowChanged

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000


_DEADLOCK_RETRIES = 3


@dataclass
class _Chunk:
    records: list
    checked: tuple  # ChunkApplier.read(records)
    position: int  # of the file after the chunk


def _unique_violation(error: IntegrityError) -> DomainError:
    text = str(error).lower()
    if "mdn" in text:
        return MobilePhoneAlreadyAssigned()
    return ExternalIdAlreadyAssigned()


class ImportRun:
    """Applies the file of `person_import` from its checkpoint on; the caller holds the lease."""

    def __init__(self, person_import: PersonImport, *, lease_token: str,
                 chunk_size: int = CHUNK_SIZE, on_chunk: Callable | None = None):  # fmt: skip
        self.person_import = person_import
        self.lease_token = lease_token
        self.chunk_size = chunk_size
        self.on_chunk = on_chunk
        self.company = person_import.company
        self._created_before_run = person_import.created
        self._created_when_analyzed = 0  # by this run

    def run(self) -> None:
        """Raises a DomainError for a file-level problem (nothing after it is applied)."""
        with open(self.person_import.file_path, "rb") as stream:
            check_encoding(stream)
            persons_file = PersonsFile(stream)
            reader = RowReader(persons_file.layout, custom_field_schema(self.company))
            self.applier = ChunkApplier(PersonStore(self.company.pk), reader, carrier_lookup())
            records = persons_file.records()
            # Resume: the first `records_done` records are in the database already.
            for _ in itertools.islice(records, self.person_import.records_done):
                pass
            applier = self.applier

            def check(chunk: list) -> _Chunk:
                return _Chunk(chunk, applier.read(chunk), stream.tell())

            store = applier.store
            # Inside a caller's transaction each chunk is a savepoint, whose rows carry the
            # savepoint's transaction id rather than the one a chunk's row version names
            # (begin_chunk): every pipelined write would be refused and redone.
            pipelined = store.postgres and not connection.in_atomic_block
            checked = (check(chunk) for chunk in _chunks(records, self.chunk_size))
            store.refresh_statistics()
            with (
                no_cyclic_garbage_collection(),
                quick_thread_switches(),
                store.index_probes_only(),
                closing(checked),
            ):
                if pipelined:
                    self._run_pipelined(checked)
                else:
                    for chunk in checked:
                        self._commit(chunk.records, chunk.position, chunk.checked)
                        self._after_chunk()
            store.refresh_statistics()

    def _after_chunk(self) -> None:
        self._keep_statistics_current()
        if self.on_chunk is not None:
            self.on_chunk(self.person_import)

    def _keep_statistics_current(self) -> None:
        """ANALYZE the person table each time this run has doubled the persons it created.

        The planner must know the company's persons: with statistics that put them at a
        row or two (a new database, or a new company in a table of others' persons) it
        joined the other way round, reading all of the company's persons once per row
        looked up. 40,000 new persons took 57 s on a new database (one chunk 20 s) and
        17.6 s for a second company, until autovacuum came by, where it is on; 2.8 and
        3.2 s with these ANALYZEs. A few per import, each at twice the rows of the last.
        """
        created = self.person_import.created - self._created_before_run
        if created > 2 * max(self._created_when_analyzed, 50):
            self.applier.store.analyze()
            self._created_when_analyzed = created

    def _run_pipelined(self, chunks: Iterator[_Chunk]) -> None:
        """Write each chunk while the next one is applied in a thread (PostgreSQL).

        That thread also reads and checks the chunks, the next one queued after each
        apply: two threads share the interpreter, the one driving the database and the
        one doing the Python work (a third, reading ahead, cost more in hand-overs of the
        interpreter than it overlapped).
        """
        store = self.applier.store
        executor = ThreadPoolExecutor(1, thread_name_prefix="persons-apply")
        try:
            reading = executor.submit(next, chunks, None)
            current, applying = None, None  # the chunk to write next, its apply
            failure = None
            while True:
                try:
                    upcoming = reading.result()
                except DomainError as error:  # further on in the file: write what came before
                    failure, upcoming = error, None
                if upcoming is not None:
                    reading = executor.submit(next, chunks, None)
                if current is not None:
                    # Look the next chunk up while this one is still being applied: it
                    # needs what is committed so far, and this chunk carried over.
                    looked_up = self._look_up(upcoming) if upcoming is not None else None
                    result, now, prepared = applying.result()
                    applying = None
                    try:
                        with transaction.atomic():
                            version = store.begin_chunk()
                            if prepared is None:  # more new persons than ids reserved
                                self._assign_ids(result, now, store.new_ids(len(result.created)))
                            if upcoming is not None:
                                applying = self._submit_apply(executor, upcoming, looked_up,
                                                              result, version)  # fmt: skip
                            self._write(result, len(current.records), current.position, now,
                                        prepared)  # fmt: skip
                        self._committed()
                    except (RowChanged, IntegrityError, DataError, OperationalError):
                        logger.info("import %s: chunk applied again with its rows locked",
                                    self.person_import.pk)  # fmt: skip
                        if applying is not None:
                            applying.result()  # let it end: it reads the result we drop
                            applying = None
                        self._commit(current.records, current.position, current.checked)
                    self._after_chunk()
                if applying is None and upcoming is not None:
                    applying = self._submit_apply(executor, upcoming, self._look_up(upcoming))
                current = upcoming
                if upcoming is None:
                    if failure is not None:
                        raise failure
                    return
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _look_up(self, chunk: _Chunk) -> tuple[Found, list[int]]:
        """The persons `chunk` names, unlocked, and ids reserved for its new persons.

        One id per row the lookup did not find: the apply thread has no database access.
        """
        parsed = chunk.checked[0]
        found = self.applier.lookup(parsed, lock=False)
        return found, self.applier.store.new_ids(max(0, len(parsed) - len(found.rows)))

    def _submit_apply(self, executor: ThreadPoolExecutor, chunk: _Chunk, looked_up: tuple,
                      previous: ChunkResult | None = None, version: str | None = None
                      ) -> Future:  # fmt: skip
        """Apply `chunk` and prepare its writes in the thread.

        `previous`: the chunk being written meanwhile, which `looked_up` does not see yet;
        it is carried over as it will be once written (its row version: `version`).
        """
        applier = self.applier
        found, reserved = looked_up

        def apply() -> tuple:
            carried = previous.carry(version, found) if previous is not None else None
            result = applier.apply(chunk.records, chunk.checked, found, carried)
            now = timezone.now()
            if len(reserved) < len(result.created):
                return result, now, None
            self._assign_ids(result, now, reserved[: len(result.created)])
            return result, now, applier.store.prepare_writes(*_write_rows(result), now)

        return executor.submit(apply)

    def _commit(self, chunk: list, position: int, checked=None) -> None:
        for attempt in range(_DEADLOCK_RETRIES):
            try:
                with transaction.atomic():
                    self._apply(chunk, position, checked)
                self._committed()
                return
            except (IntegrityError, DataError):
                # A concurrent writer took an MDN or external id between our read and write,
                # or the database refused a value the checks let through: replay the rows
                # one by one, so only the affected row fails (and the rows after it are
                # still applied).
                logger.info("import %s: chunk replayed row by row", self.person_import.pk)
                self._commit_row_by_row(chunk, position)
                return
            except (OperationalError, RowChanged):
                if attempt == _DEADLOCK_RETRIES - 1:
                    raise
                logger.warning("import %s: chunk retried", self.person_import.pk, exc_info=True)

    def _commit_row_by_row(self, chunk: list, position: int) -> None:
        for record in chunk:
            try:
                with transaction.atomic():
                    self._apply([record], position)
            except (IntegrityError, DataError) as error:
                refusal = (
                    _unique_violation(error)
                    if isinstance(error, IntegrityError)
                    else ImportRowRefused(f"The database refused this row: {str(error)[:200]}")
                )
                with transaction.atomic():
                    result = ChunkResult(errors=[(record[0], refusal, record[1])])
                    self._save(result, 1, position)
            self._committed()

    def _apply(self, chunk: list, position: int, checked=None) -> None:
        """Apply and write a chunk, its rows locked from the lookup on (the safe way)."""
        self.applier.store.begin_chunk()
        result = self.applier.apply(chunk, checked)
        now = timezone.now()
        self._assign_ids(result, now, self.applier.store.new_ids(len(result.created)))
        self._write(result, len(chunk), position, now)

    @staticmethod
    def _assign_ids(result: ChunkResult, now: datetime, ids: list[int]) -> None:
        """Ids, keys and creation time of the chunk's new persons (one id each)."""
        keys = new_person_keys(len(result.created))
        for subject, pk, key in zip(result.created, ids, keys, strict=True):
            subject.id = pk
            subject.person_key = key
            subject.created_at = now

    def _write(self, result: ChunkResult, records: int, position: int, now: datetime,
               prepared: tuple | None = None) -> None:  # fmt: skip
        """The chunk's persons, callbacks and checkpoint (`prepared`: store.prepare_writes)."""
        store = self.applier.store
        if prepared is not None:
            store.execute_writes(prepared)
        else:
            store.write(*_write_rows(result), now)
        emit_chunk_callbacks(self.company, result, now)
        self._save(result, records, position)

    def _save(self, result: ChunkResult, records: int, position: int) -> None:
        """Error rows and the checkpoint, in the chunk's transaction; ImportStopped if lost."""
        self._pending = Checkpoint(records, result.created_rows, result.updated_rows,
                                   result.errors, position)  # fmt: skip
        self._pending.save(self.person_import, self.lease_token, self.applier.reader)

    def _committed(self) -> None:
        """Mirror the checkpoint just committed on the in-memory PersonImport."""
        self._pending.mirror(self.person_import)


def _write_rows(result: ChunkResult) -> tuple[list, list, list]:
    """The rows PersonStore.write takes: moved, changed, created."""
    moved, changed = [], []
    for s in result.changed:
        if s.identity_changed():
            moved.append((s.id, s.external_person_id, s.mdn, s.carrier_code, s.fields, s.version))
        else:
            changed.append((s.id, s.fields, s.version))
    created = [(s.id, s.person_key, s.external_person_id, s.mdn, s.carrier_code, s.fields)
               for s in result.created]  # fmt: skip
    return moved, changed, created


def new_person_keys(count: int) -> list[str]:
    """`count` new person keys: time-ordered UUIDs (RFC 9562 version 7), as 32 hex digits.

    A 48-bit millisecond clock leads and 74 random bits follow, so a chunk's keys land
    together at the end of the person_key index instead of on thousands of random pages
    (at a million persons, random keys made the index the import's largest cost). One
    read of the OS's RNG serves the chunk; both databases take the hex text for a UUID.
    """
    entropy = os.urandom(10 * count)
    prefix = (int(time.time() * 1000) & (1 << 48) - 1) << 80 | 0x7 << 76 | 0x2 << 62
    from_bytes = int.from_bytes
    keys = []
    for at in range(0, 10 * count, 10):
        random = from_bytes(entropy[at : at + 10])  # 80 bits: 12 + 62 used
        keys.append(f"{prefix | (random >> 68) << 64 | random & _LOW_62:032x}")
    return keys


_LOW_62 = (1 << 62) - 1


@contextmanager
def no_cyclic_garbage_collection():
    """Pause the cyclic garbage collector while rows stream through.

    Rows make no reference cycles (row errors are kept without their tracebacks), so
    reference counting frees everything. The collector would find nothing and yet, every
    700 allocations, walk every object in flight: even a young collection now and then
    cost 150 ms, since a few chunks in flight are 190,000 objects.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def quick_thread_switches():
    """Hand the interpreter between the import's threads every 0.2 ms instead of 5 ms.

    The thread that drives the database waits for each statement with the interpreter
    released, and when the answer comes, a thread applying rows holds it: the database
    then sits idle until the next switch, a dozen times per chunk. (Measured: 1.5-2 s
    of 30 per million rows on PostgreSQL with 1 ms instead of 5; 0.2 ms took another
    0.7-1 s of 17.5 off an `.opt_outs` import, 0.05 ms nothing more.)
    """
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0002))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


# A chunk also ends once its cells weigh about this much (characters plus a per-cell
# overhead): 5,000 rows of 1,000 long cells would otherwise be gigabytes in flight, and
# memory must stay flat whatever the file (SPEC section 9). Ordinary rows never reach it.
CHUNK_MAX_WEIGHT = 16 * 1024 * 1024
_CELL_WEIGHT = 64


def _chunks(records: Iterator, size: int, max_weight: int = CHUNK_MAX_WEIGHT) -> Iterator[list]:
    chunk: list = []
    weight = 0
    for record in records:
        chunk.append(record)
        cells = record[1]
        weight += sum(map(len, cells)) + _CELL_WEIGHT * len(cells)
        if len(chunk) >= size or weight >= max_weight:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk
