"""person_added / person_updated events for the persons a chunk created or changed.

Emitted in the chunk's transaction through the callbacks outbox's bulk entry point, one
event per person per chunk carrying its state after the chunk. Bodies are built only if
the outbox asks (a registration exists), from a snapshot taken now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial

from callbacks.services import callback_events_emit_bulk

from ..api.serializers import PersonOutputSerializer
from ..models import Person
from ..selectors import custom_field_schema


def _person_body(company, state: tuple, api_version: int) -> dict:
    pk, person_key, external_id, mdn, carrier, fields, created_at, updated_at = state
    if not isinstance(person_key, uuid.UUID):  # SQLite hands back hex text
        person_key = uuid.UUID(person_key)
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at).replace(tzinfo=updated_at.tzinfo)
    person = Person(
        id=pk,
        company=company,
        person_key=person_key,
        external_person_id=external_id,
        mdn=mdn,
        carrier_code=carrier,
        custom_fields=fields,
        created_at=created_at or updated_at,
        updated_at=updated_at,
    )
    context = {"schema": custom_field_schema(company), "api_version": api_version}
    return {"person": PersonOutputSerializer(person, context=context).data}


def _items(company, subjects, now):
    for s in subjects:
        state = (s.id, s.person_key, s.external_person_id, s.mdn, s.carrier_code, s.fields,
                 s.created_at, now)  # fmt: skip
        yield s.id, partial(_person_body, company, state)


def emit_chunk_callbacks(company, result, now: datetime) -> None:
    """Record the chunk's person_added and person_updated events (in its transaction)."""
    if result.created:
        callback_events_emit_bulk(
            company=company,
            callback_type="person_added",
            items=_items(company, result.created, now),
        )
    if result.changed:
        callback_events_emit_bulk(
            company=company,
            callback_type="person_updated",
            items=_items(company, result.changed, now),
        )
