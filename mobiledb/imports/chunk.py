"""Applying a chunk of rows: the person rules of mobiledb.persons.services, set-based.

The chunk's persons are loaded in a few queries; then each row is checked and applied in
order to an in-memory view of them, completely or not at all, so a later row sees what
an earlier one did (the same MDN twice creates once, then updates). Finally the view's
new and changed persons are written in bulk. Rules (seeds/004, SPEC section 7):

- identification precedence: person_id > person_key > external_person_id > mdn;
- a row found by external_person_id or mdn that does not exist creates a person (an
  unknown external id with the MDN of a person who has none updates that person, as
  person_add merges);
  an unknown person_id or person_key is PersonNotFound;
- an MDN is never changed once set (MdnChangeNotAllowed) nor taken from another person
  (MobilePhoneAlreadyAssigned); an external id is never taken (PG::UniqueViolation);
- a new MDN passes the carrier lookup; empty cells change nothing.

The lookup and the apply are separate steps so the engine can run them apart: on
PostgreSQL it looks the next chunk up and applies it in a thread while this chunk is
written, then corrects the lookup with this chunk's final state (`carry`): see engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vibesweb.errors import DomainError

from ..errors import (
    ExternalIdAlreadyAssigned,
    MdnChangeNotAllowed,
    MobilePhoneAlreadyAssigned,
    PersonCreateRequiresIdentifier,
    PersonNotFound,
)
from .rows import RowReader, RowValues
from .store import PersonStore


class Subject:
    """A person as the chunk sees it; `original` is None for one created by the chunk.

    `person_key` (hex) and `created_at` are set for new persons only: callbacks read the
    others' in one query, and only when a registration asks for a body.
    """

    __slots__ = ("id", "person_key", "external_person_id", "mdn", "carrier_code", "_stored",
                 "_fields", "_original_fields", "original", "created_at", "version")  # fmt: skip

    def __init__(self, pk, person_key, external_person_id, mdn, carrier_code, stored, original,
                 version=None):  # fmt: skip
        self.id = pk
        self.person_key = person_key
        self.external_person_id = external_person_id
        self.mdn = mdn
        self.carrier_code = carrier_code
        self._stored = stored
        self._fields = None
        self._original_fields = None
        self.original = original
        self.created_at = None
        # The row version the chunk read (PostgreSQL's xmin): its write is refused if the
        # row changed since (see PersonStore.update).
        self.version = version

    @property
    def fields(self) -> dict:
        if self._fields is None:
            self._fields = PersonStore.fields_of(self._stored)
            # Values are replaced, never mutated in place, so a shallow copy is the before.
            self._original_fields = dict(self._fields)
        return self._fields

    def changed(self) -> bool:
        if self.original is None:
            return True
        if self._fields is not None and self._fields != self._original_fields:
            return True
        return self.identity_changed()

    def identity_changed(self) -> bool:
        """Anything but custom fields changed (external id, MDN, carrier)."""
        return self.original[:3] != (self.external_person_id, self.mdn, self.carrier_code)

    def carried(self, version) -> Subject:
        """A copy for the next chunk's view: this subject's state now is its original there.

        Reads only, never materializes `fields`: the writer may be reading this subject.
        """
        stored = self._fields if self._fields is not None else self._stored
        copy = Subject(self.id, self.person_key, self.external_person_id, self.mdn,
                       self.carrier_code, stored,
                       (self.external_person_id, self.mdn, self.carrier_code, stored),
                       version)  # fmt: skip
        copy.created_at = self.created_at
        return copy


@dataclass
class ChunkResult:
    created: list[Subject] = field(default_factory=list)
    changed: list[Subject] = field(default_factory=list)
    created_rows: int = 0
    updated_rows: int = 0
    errors: list[tuple[int, DomainError, list[str]]] = field(default_factory=list)

    def carry(self, written_version, found: Found) -> list[Subject]:
        """The persons this chunk writes that the next chunk needs, as they will be once
        written.

        Only these: the next chunk's lookup (`found`) sees everything committed before
        this chunk. Needed are the persons that lookup found (its rows of them are stale)
        and those the next chunk names by an id, external id or MDN they have now (the
        persons this chunk created, and the uniqueness checks); the rest would only cost
        a copy each. `written_version`: the row version this chunk's writes give (its
        transaction id).
        """
        ids, external_ids, mdns = found.named
        ids = ids.union(row[0] for row in found.rows)
        return [
            s.carried(written_version)
            for s in (*self.created, *self.changed)
            if s.id in ids or s.external_person_id in external_ids or s.mdn in mdns
        ]


@dataclass
class Found:
    """What the database holds for a chunk's identifiers: rows of PersonStore.find."""

    rows: list[tuple] = field(default_factory=list)
    key_pairs: list[tuple[int, str]] = field(default_factory=list)
    # What the chunk names: (person ids, incl. those of its person keys; external ids; MDNs).
    named: tuple[set, set, set] = (frozenset(), frozenset(), frozenset())


class ChunkApplier:
    """Checks and applies a chunk of records for one company (no commit of its own)."""

    def __init__(self, store: PersonStore, reader: RowReader, carrier_lookup):
        self.store = store
        self.reader = reader
        self.carrier_lookup = carrier_lookup

    def read(self, records: list[tuple[int, list[str]]]) -> tuple[list, list]:
        """Check the records' cells (no database): (rows read, rows refused). Thread-safe."""
        parsed: list[tuple[int, RowValues, list[str]]] = []
        refused: list[tuple[int, DomainError, list[str]]] = []
        read = self.reader.read
        for line, cells in records:
            try:
                parsed.append((line, read(cells), cells))
            except DomainError as error:
                # Without its traceback the error holds no frame: no reference cycle.
                refused.append((line, error.with_traceback(None), cells))
        return parsed, refused

    def apply(self, records: list[tuple[int, list[str]]], checked=None, found: Found | None = None,
              carried: list[Subject] | None = None) -> ChunkResult:  # fmt: skip
        """Apply a chunk to an in-memory view of its persons (no write).

        `checked`: what read(records) gave, if done ahead. `found`: lookup() of it, if done
        already (else it is looked up now, rows locked); `carried`: the previous chunk's
        persons, when `found` was read before that chunk was written.
        """
        parsed, refused = checked if checked is not None else self.read(records)
        result = ChunkResult(errors=list(refused))
        if found is None:
            found = self.lookup(parsed, lock=True)
        self._load(found, carried or ())
        mdns = {values.mdn for _, values, _ in parsed if values.mdn is not None}
        self.new_mdns = mdns.difference(self.by_mdn)
        self._carriers = self._lookup_carriers()
        for line, values, cells in parsed:
            try:
                created = self._apply_row(values)
            except DomainError as error:
                result.errors.append((line, error.with_traceback(None), cells))
                continue
            if created:
                result.created_rows += 1
            else:
                result.updated_rows += 1
        result.errors.sort(key=lambda item: item[0])
        for subject in self.subjects:
            if subject.original is None:
                result.created.append(subject)
            elif subject.changed():
                result.changed.append(subject)
        return result

    # --- loading -----------------------------------------------------------------------

    def lookup(self, parsed: list, *, lock: bool) -> Found:
        """Read the persons a chunk's rows name, in one query per kind of identifier."""
        ids, keys, external_ids, mdns = set(), set(), set(), set()
        for _, values, _ in parsed:
            if values.person_id is not None:
                ids.add(values.person_id)
            if values.person_key is not None:
                keys.add(values.person_key)
            if values.external_person_id is not None:
                external_ids.add(values.external_person_id)
            if values.mdn is not None:
                mdns.add(values.mdn)
        store = self.store
        found = Found()
        found.key_pairs = store.find_keys(list(keys)) if keys else []
        ids.update(pk for pk, _ in found.key_pairs)
        for name, wanted in (("id", ids), ("external_person_id", external_ids)):
            if wanted:
                found.rows.extend(store.find(name, list(wanted), lock=lock))
        found.named = (ids, external_ids, set(mdns))
        # Most MDNs belong to persons found already (a row names both): ask for the rest.
        mdns.difference_update(row[2] for row in found.rows)
        if mdns:
            found.rows.extend(store.find("mdn", list(mdns), lock=lock))
        return found

    def _load(self, found: Found, carried) -> None:
        self.subjects: list[Subject] = []
        self.by_id: dict[int, Subject] = {}
        self.by_external_id: dict[str, Subject] = {}
        self.by_mdn: dict[str, Subject] = {}
        # The previous chunk's persons first: where `found` predates its writes, its rows
        # of those persons are stale, and the persons it created are missing.
        for subject in carried:
            self._add(subject)
        for pk, external_id, mdn, carrier, stored, version in found.rows:
            if pk not in self.by_id:
                original = (external_id, mdn, carrier, stored)
                self._add(Subject(pk, None, external_id, mdn, carrier, stored, original, version))
        self.by_key = {key: self.by_id[pk] for pk, key in found.key_pairs if pk in self.by_id}

    def _add(self, subject: Subject) -> None:
        self.subjects.append(subject)
        if subject.id is not None:
            self.by_id[subject.id] = subject
        if subject.external_person_id:
            self.by_external_id.setdefault(subject.external_person_id, subject)
        if subject.mdn:
            self.by_mdn.setdefault(subject.mdn, subject)

    def _lookup_carriers(self) -> dict:
        if not self.new_mdns:
            return {}
        return self.carrier_lookup.lookup(sorted(self.new_mdns))

    # --- one row -----------------------------------------------------------------------

    def _carrier_for(self, mdn: str):
        answer = self._carriers.get(mdn)
        if isinstance(answer, DomainError):
            raise answer
        return answer

    def _apply_row(self, values: RowValues) -> bool:
        """Apply one row to the view; True when it created a person. All checks first."""
        if values.person_id is not None:  # seeds/004 precedence
            subject = self.by_id.get(values.person_id)
            if subject is None:
                raise PersonNotFound()
        elif values.person_key is not None:
            subject = self.by_key.get(values.person_key)
            if subject is None:
                raise PersonNotFound()
        elif values.external_person_id is not None:
            subject = self.by_external_id.get(values.external_person_id)
            if subject is None and values.mdn is not None:
                # As person_add merges: an unknown external id joins the MDN's person when
                # that person has none; one with another id keeps its MDN (refused below).
                owner = self.by_mdn.get(values.mdn)
                if owner is not None and not owner.external_person_id:
                    subject = owner
        elif values.mdn is not None:
            subject = self.by_mdn.get(values.mdn)
        elif values.device_id is not None:
            raise PersonNotFound("Person not found: vibesweb keeps no vibes_device_id")
        else:
            raise PersonCreateRequiresIdentifier()
        mdn = values.mdn
        if subject is None:
            return self._create(values)
        external_id = values.external_person_id
        if external_id is not None and external_id != subject.external_person_id:
            owner = self.by_external_id.get(external_id)
            if owner is not None and owner is not subject:
                raise ExternalIdAlreadyAssigned(
                    f"external_person_id '{external_id}' is already assigned to another person"
                )
        carrier = None
        if mdn is not None and mdn != subject.mdn:
            if subject.mdn:
                raise MdnChangeNotAllowed()
            if mdn in self.by_mdn:
                raise MobilePhoneAlreadyAssigned()
            carrier = self._carrier_for(mdn)
        # Every check passed: apply the whole row.
        if external_id is not None and external_id != subject.external_person_id:
            if subject.external_person_id:
                del self.by_external_id[subject.external_person_id]
            subject.external_person_id = external_id
            self.by_external_id[external_id] = subject
        if mdn is not None and mdn != subject.mdn:
            subject.mdn = mdn
            self.by_mdn[mdn] = subject
            if carrier is not None:
                subject.carrier_code = carrier
        if values.fields:
            subject.fields.update(values.fields)
        return False

    def _create(self, values: RowValues) -> bool:
        mdn = values.mdn
        carrier = None
        if mdn is not None:
            if mdn in self.by_mdn:  # identified by external id: the MDN is someone else's
                raise MobilePhoneAlreadyAssigned()
            carrier = self._carrier_for(mdn)
        subject = Subject(None, None, values.external_person_id, mdn, carrier, None, None)
        subject._fields = dict(values.fields)
        self.subjects.append(subject)
        if subject.external_person_id:
            self.by_external_id[subject.external_person_id] = subject
        if mdn:
            self.by_mdn[mdn] = subject
        return True
