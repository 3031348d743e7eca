"""person_added / person_updated events for the persons a chunk created or changed.

Recorded in the chunk's transaction as one batch per callback type through the callbacks
outbox (callbacks.services.batches), when a registration asks for them: the import
writes a list of ids, and the callbacks queue builds the events.
"""

from __future__ import annotations

from datetime import datetime

from callbacks.services import person_events_emit_batch


def emit_chunk_callbacks(company, result, now: datetime) -> None:
    """Record the chunk's person_added and person_updated events (in its transaction)."""
    for callback_type, subjects in (("person_added", result.created),
                                    ("person_updated", result.changed)):  # fmt: skip
        person_events_emit_batch(
            company=company,
            callback_type=callback_type,
            person_ids=[subject.id for subject in subjects],
            event_date=now,
        )
