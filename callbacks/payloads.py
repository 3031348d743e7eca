"""Callback bodies, in the shape of the seeds' examples (seeds/000, seeds/003)."""

from __future__ import annotations

import json

from vibesweb.dates import format_platform_datetime


def callback_payload(*, event, registration, attempt: int) -> dict:
    """The whole payload of one attempt: the envelope fields, then the event's body."""
    bodies = event.bodies or {}
    body = bodies.get(str(registration.api_version))
    if body is None:  # a body built for another version is better than none
        body = next(iter(bodies.values()), {})
    return {
        "callback_id": str(registration.callback_id),
        "event_id": str(event.id),
        "callback_type": event.callback_type,
        "event_type": event.callback_type,  # deprecated copy (seeds/000)
        "event_date": format_platform_datetime(event.created_at),
        "delivery_attempt": str(attempt),  # a string in seeds/000
        **body,
    }


def encode_payload(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sample_body(callback_type: str, *, company, api_version: int) -> dict:
    """A realistic body for a test event of `callback_type` (nothing real is touched)."""
    mdn = "2995551234" if api_version == 1 else "+12995551234"
    base = f"/companies/{company.key}"
    person = {"id": "0", "external_id": "test-external-id", "url": f"{base}/mobiledb/persons/0"}
    if callback_type in ("person_added", "person_updated"):
        return {"person": _sample_person(base, mdn)}
    if callback_type in ("subscription_added", "subscription_removed"):
        return {"subscription": _sample_subscription(base, person, callback_type)}
    return {"test": True, "message": f"Test {callback_type} event from vibesweb"}


def _sample_person(base: str, mdn: str) -> dict:
    return {
        "person_id": 0,
        "person_key": "00000000-0000-4000-8000-000000000000",
        "external_person_id": "test-external-id",
        "mobile_phone": {"mdn": mdn, "carrier_code": None},
        "timezone": None,
        "timezone_source": None,
        "custom_fields": {},
        "created_at": "2017-01-15T15:34:52Z",
        "updated_at": "2017-01-15T15:34:52Z",
        "url": f"{base}/mobiledb/persons/0",
    }


def _sample_subscription(base: str, person: dict, callback_type: str) -> dict:
    subscription = {
        "person": person,
        "subscription_list": {"id": "0", "url": f"{base}/mobiledb/subscription_lists/0"},
        "opt_in_date": "2017-01-15T15:34:52Z",
        "url": f"{base}/mobiledb/persons/0/subscriptions/0",
    }
    if callback_type == "subscription_removed":
        subscription["opt_out_date"] = "2017-02-18T15:34:52Z"
        subscription["opt_out_reason"] = "user_opt_out"
    return subscription
