"""The one entry point the rest of vibesweb calls when something callback-worthy happens.

Contract (stable):

- `callback_event_emit(company=..., callback_type=..., body=..., person_id=None,
  scope=None)` is called *inside* the caller's database transaction, right after the
  change. It writes the event and one delivery per open registration of that type (the
  outbox), so the event exists if and only if the change committed; delivery is
  enqueued after commit. Pass `scope={"list_id": ...}` (or `campaign_id`, `pool_id`)
  for types a registration may narrow by list, campaign or pool (callbacks.types).
- `body(api_version) -> dict` returns the callback-specific part of the payload (for
  example `{"subscription": {...}}`), with MDNs formatted for that API version; the
  subsystem adds `callback_id`, `event_id`, `callback_type`, `event_type`, `event_date`
  and `delivery_attempt`. It is called only when a registration exists.
- `callback_events_emit_bulk(...)` is the same for many subjects at once;
  `person_events_emit_bulk(...)` does it for persons.
- `person_events_emit_batch(...)` records person events of a bulk change (imports) as
  one outbox row, expanded into events and deliveries by the callbacks queue
  (services.batches).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..payloads import person_body
from ..types import CALLBACK_TYPES
from .batches import person_events_emit_batch
from .events import BodyBuilder, callback_event_emit, callback_events_emit_bulk

__all__ = [
    "CALLBACK_TYPES",
    "BodyBuilder",
    "callback_event_emit",
    "callback_events_emit_bulk",
    "person_added_emit",
    "person_updated_emit",
    "person_events_emit_bulk",
    "person_events_emit_batch",
]


def _person_builder(person, company):
    from mobiledb.selectors import custom_field_schema  # noqa: PLC0415

    person.company = company  # the person's url needs it; never one query per person

    def build(api_version: int) -> dict:
        return person_body(person, schema=custom_field_schema(company), api_version=api_version)

    return build


def person_added_emit(person) -> None:
    """Emit `person_added` for a person just created (call inside its transaction)."""
    callback_event_emit(
        company=person.company,
        callback_type="person_added",
        body=_person_builder(person, person.company),
        person_id=person.pk,
    )


def person_updated_emit(person) -> None:
    """Emit `person_updated` for a person just saved (call inside its transaction)."""
    callback_event_emit(
        company=person.company,
        callback_type="person_updated",
        body=_person_builder(person, person.company),
        person_id=person.pk,
    )


def person_events_emit_bulk(*, company, callback_type: str, persons: Iterable) -> int:
    """Emit `person_added` or `person_updated` for many persons of `company` (imports).

    Returns the number of events written; `persons` is not consumed when nothing is
    registered.
    """
    return callback_events_emit_bulk(
        company=company,
        callback_type=callback_type,
        items=((p.pk, _person_builder(p, company)) for p in persons),
    )
