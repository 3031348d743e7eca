"""Callback bodies, in the shape of the seeds' examples (seeds/000, seeds/003)."""

from __future__ import annotations

import json

from vibesweb.dates import format_platform_datetime
from vibesweb.inputs import parse_id


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


_SAMPLE_DATE = "2017-01-15T15:34:52Z"
_SAMPLE_LATER = "2017-02-18T15:34:52Z"


def _obj(container: dict, key: str) -> dict:
    """`container[key]` when it is an object: a tester's body is not trusted to be shaped."""
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _text(value, default: str) -> str:
    """A sample value the tester chose (identifiers may be numbers), or our default."""
    return default if value in (None, "") else str(value)


def sample_body(
    callback_type: str, *, company, api_version: int, overrides: dict | None = None
) -> dict:
    """A realistic body of `callback_type` for a test event, in the shape the real event
    has (nothing real is touched). `overrides` is the test request's body: the platform
    lets a tester name the objects the sample carries (`person`, `subscription`,
    `subscription_list`, `participant`, and the scopes `subscription_added {list_id}`,
    `acquisition_campaign_changed {campaign_id}`, `wallet_item_install {campaign_token}`)."""
    given = overrides if isinstance(overrides, dict) else {}
    mdn = "2995551234" if api_version == 1 else "+12995551234"
    base = f"/companies/{company.key}"
    builder = _SAMPLE_BUILDERS.get(callback_type)
    if builder is None:
        return {"message": f"Test {callback_type} event from vibesweb"}
    return builder(callback_type, base=base, mdn=mdn, given=given)


def _sample_person(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    wanted = _obj(given, "person")
    person_id = _text(wanted.get("person_id"), "0")
    phone = _obj(wanted, "mobile") or _obj(wanted, "mobile_phone")
    return {
        "person": {
            "person_id": parse_id(person_id) if parse_id(person_id) is not None else person_id,
            "person_key": "00000000-0000-4000-8000-000000000000",
            "external_person_id": _text(wanted.get("external_person_id"), "test-external-id"),
            "mobile_phone": {
                "mdn": _text(phone.get("mdn"), mdn),
                "carrier_code": phone.get("carrier_code"),
            },
            "timezone": None,
            "timezone_source": None,
            "custom_fields": _obj(wanted, "custom_fields"),
            "created_at": _SAMPLE_DATE,
            "updated_at": _SAMPLE_DATE,
            "url": f"{base}/mobiledb/persons/{person_id}",
        }
    }


def _sample_subscription(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    wanted = _obj(given, "subscription")
    scope = _obj(given, callback_type)
    person_id = _text(_obj(wanted, "person").get("id"), "0")
    list_id = _text(_obj(wanted, "subscription_list").get("id") or scope.get("list_id"), "0")
    subscription = {
        "person": {
            "id": person_id,
            "external_id": "test-external-id",
            "url": f"{base}/mobiledb/persons/{person_id}",
        },
        "subscription_list": {
            "id": list_id,
            "url": f"{base}/mobiledb/subscription_lists/{list_id}",
        },
        "opt_in_date": _SAMPLE_DATE,
    }
    if callback_type == "subscription_removed":  # seeds/000's order of keys
        subscription["opt_out_date"] = _SAMPLE_LATER
        subscription["opt_out_reason"] = "user_opt_out"
    subscription["acquisition_campaign"] = None
    subscription["url"] = f"{base}/mobiledb/persons/{person_id}/subscriptions/{list_id}"
    return {"subscription": subscription}


def _sample_subscription_list(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    wanted = _obj(given, "subscription_list")
    list_id = _text(wanted.get("id"), "0")
    url = f"{base}/mobiledb/subscription_lists/{list_id}"
    return {
        "subscription_list": {
            "id": list_id,
            "name": _text(wanted.get("name"), "Test list"),
            "url": url,
            "subscribers_url": f"{url}/subscribers",
            "acquisition_campaigns_url": f"{url}/acquisition_campaigns",
        }
    }


def _sample_participant(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    wanted = _obj(given, "participant")
    campaign = _obj(wanted, "acquisition_campaign")
    scope = _obj(given, "acquisition_campaign_changed") or _obj(given, callback_type)
    campaign_id = _text(campaign.get("api_key") or scope.get("campaign_id"), "0")
    person_id = _text(wanted.get("id"), "0")
    return {
        "participant": {
            "person": {
                "id": person_id,
                "external_id": "test-external-id",
                "mobile_phone": {"mdn": _text(_obj(wanted, "mobile_phone").get("mdn"), mdn)},
                "url": f"{base}/mobiledb/persons/{person_id}",
            },
            "acquisition_campaign": {
                "id": campaign_id,
                "description": _text(campaign.get("description"), "Test campaign"),
                "url": f"{base}/campaigns/acquisition/{campaign_id}",
                "keyword": campaign.get("keyword") or "JOIN",
            },
            "participation_date": _SAMPLE_DATE,
            "expire_date": _SAMPLE_LATER,
            "status": "PENDING" if callback_type == "ack_participant_added" else "CONFIRMED",
        }
    }


def _sample_wallet(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    scope = _obj(given, callback_type) or _obj(given, "wallet_item_install")
    token = _text(scope.get("campaign_token"), "test-campaign-token")
    item_uuid = "00000000-0000-4000-8000-000000000001"
    campaign_url = f"{base}/campaigns/wallet/{token}"
    removed = callback_type == "wallet_item_remove"
    return {
        "wallet_instance": {
            "registered_at": _SAMPLE_DATE,
            "unregistered_at": _SAMPLE_LATER if removed else None,
            "wallet_instance_uid": "00000000-0000-4000-8000-000000000002",
            "provider": "apple",
        },
        "wallet_item": {
            "uuid": item_uuid,
            "wallet_object_uid": "0",
            "expiration_date": None,
            "tokens": {"first_name": "Test"},
            "url": f"{campaign_url}/items/{item_uuid}",
        },
        "wallet_campaign": {"wallet_campaign_uid": "0", "token": token, "url": campaign_url},
    }


def _sample_incentive(callback_type: str, *, base: str, mdn: str, given: dict) -> dict:
    scope = _obj(given, callback_type)
    pool_id = _text(scope.get("pool_id"), "0")
    pool = {"id": parse_id(pool_id) if parse_id(pool_id) is not None else pool_id}
    pool["url"] = f"{base}/incentives/pools/{pool_id}"
    issuance = {
        "id": 0,
        "external_issuee_id": "test-external-id",
        "issuee_id": None,
        "referring_application": "test",
        "referring_application_ref_id": None,
        "incentive_code": {"code": "TESTCODE", "url": f"{base}/incentives/codes/TESTCODE"},
        "incentive_pool": pool,
        "created_at": _SAMPLE_DATE,
        "updated_at": _SAMPLE_DATE,
    }
    if callback_type == "incentive_issued":
        return {"issuance": issuance}
    return {"redemption": {**issuance, "created_at": _SAMPLE_LATER, "updated_at": _SAMPLE_LATER}}


_SAMPLE_BUILDERS = {
    "person_added": _sample_person,
    "person_updated": _sample_person,
    "subscription_added": _sample_subscription,
    "subscription_removed": _sample_subscription,
    "subscription_list_added": _sample_subscription_list,
    "subscription_list_updated": _sample_subscription_list,
    "ack_participant_added": _sample_participant,
    "ack_participant_changed": _sample_participant,
    "wallet_item_install": _sample_wallet,
    "wallet_item_remove": _sample_wallet,
    "incentive_issued": _sample_incentive,
    "incentive_redeemed": _sample_incentive,
}
