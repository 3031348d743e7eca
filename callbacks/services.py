"""The one entry point the rest of vibesweb calls when something callback-worthy happens.

Contract (stable; the callbacks subsystem, issue 3, implements it):

- `callback_event_emit(company=..., callback_type=..., body=..., person_id=None)` is
  called *inside* the caller's database transaction, right after the change. It writes
  the event and one delivery per active registration of that type (the outbox), so the
  event exists if and only if the change committed; delivery is enqueued after commit.
- `body(api_version) -> dict` returns the callback-specific part of the payload (for
  example `{"subscription": {...}}`), with MDNs formatted for that API version; the
  subsystem adds `callback_id`, `event_id`, `callback_type`, `event_type`, `event_date`
  and `delivery_attempt`. It is called only when a registration exists.
- `callback_events_emit_bulk(...)` is the same for many subjects at once (imports).

PLACEHOLDER until issue 3 lands: events are not stored yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

CALLBACK_TYPES = (
    "person_added",
    "person_updated",
    "subscription_added",
    "subscription_removed",
    "subscription_list_added",
    "subscription_list_updated",
    "ack_participant_added",
    "ack_participant_changed",
    "wallet_item_install",
    "wallet_item_remove",
    "incentive_issued",
    "incentive_redeemed",
)

BodyBuilder = Callable[[int], dict]


def callback_event_emit(
    *, company, callback_type: str, body: BodyBuilder, person_id: int | None = None
) -> None:
    """Record one event of `callback_type` for `company` in the current transaction."""
    assert callback_type in CALLBACK_TYPES, callback_type
    return None


def callback_events_emit_bulk(
    *, company, callback_type: str, items: Iterable[tuple[int | None, BodyBuilder]]
) -> None:
    """Record many events of one type at once: `items` yields (person_id, body)."""
    assert callback_type in CALLBACK_TYPES, callback_type
    return None


def person_added_emit(person) -> None:
    return None


def person_updated_emit(person) -> None:
    return None
