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
- `callback_events_emit_bulk(...)` is the same for many subjects at once.
- `person_events_emit_batch(...)` records person events of a bulk change (imports) as
  one outbox row, expanded into events and deliveries by the callbacks queue
  (services.batches) with the body builders the domain app registered at ready
  (`batch_bodies_register`).
- `registrations_may_exist(company)`: False only for a company read by an API request
  that had no open registration when the request started; a write may then skip what
  only the outbox needs (callback_event_emit already returns at once then).
- `scope_check_register(...)`: the domain app that owns a scope key (`list_id`) tells
  registrations how to check that an id exists. Callbacks knows no domain model: every
  body and every check comes from the app above that owns it.
"""

from __future__ import annotations

from ..types import CALLBACK_TYPES
from .batches import batch_bodies_register, person_events_emit_batch
from .events import (
    BodyBuilder,
    callback_event_emit,
    callback_events_emit_bulk,
    registrations_may_exist,
)
from .registrations import scope_check_register

__all__ = [
    "CALLBACK_TYPES",
    "BodyBuilder",
    "batch_bodies_register",
    "callback_event_emit",
    "callback_events_emit_bulk",
    "person_events_emit_batch",
    "registrations_may_exist",
    "scope_check_register",
]
