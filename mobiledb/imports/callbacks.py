"""person_added / person_updated events for the persons a chunk created or changed.

Emitted in the chunk's transaction through the callbacks outbox's bulk entry point, one
event per person per chunk carrying its state after the chunk. Bodies are built only if
the outbox asks (a registration exists), from a snapshot taken now; the person keys and
creation dates of updated persons, which the import does not read, are then fetched
for the whole chunk in one query.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from callbacks.services import callback_events_emit_bulk

from ..api.serializers import PersonOutputSerializer
from ..models import Person
from ..selectors import custom_field_schema


class _ChunkDetails:
    """person_key and created_at of a chunk's updated persons, read once on first use."""

    def __init__(self, store, ids: list[int]):
        self.store = store
        self.ids = ids
        self.loaded: dict | None = None

    def __getitem__(self, pk: int) -> tuple:
        if self.loaded is None:
            self.loaded = self.store.details(self.ids)
        return self.loaded[pk]


def _person_body(company, state: tuple, details, api_version: int) -> dict:
    pk, person_key, external_id, mdn, carrier, fields, created_at, updated_at = state
    if person_key is None:
        person_key, created_at = details[pk]
    person = Person(
        id=pk,
        company=company,
        person_key=uuid.UUID(str(person_key)),
        external_person_id=external_id,
        mdn=mdn,
        carrier_code=carrier,
        custom_fields=fields,
        created_at=created_at,
        updated_at=updated_at,
    )
    context = {"schema": custom_field_schema(company), "api_version": api_version}
    return {"person": PersonOutputSerializer(person, context=context).data}


def _items(company, subjects, now, details):
    for s in subjects:
        state = (s.id, s.person_key, s.external_person_id, s.mdn, s.carrier_code, s.fields,
                 s.created_at, now)  # fmt: skip
        yield s.id, partial(_person_body, company, state, details)


def emit_chunk_callbacks(company, result, now: datetime, store) -> None:
    """Record the chunk's person_added and person_updated events (in its transaction)."""
    if result.created:
        callback_events_emit_bulk(
            company=company,
            callback_type="person_added",
            items=_items(company, result.created, now, None),
        )
    if result.changed:
        details = _ChunkDetails(store, [s.id for s in result.changed])
        callback_events_emit_bulk(
            company=company,
            callback_type="person_updated",
            items=_items(company, result.changed, now, details),
        )
