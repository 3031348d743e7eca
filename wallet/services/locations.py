"""A campaign's store locations (reference OpenAPI "Wallet Store Locations API"): added in
bulk under an Idempotency-Key, listed, deleted one at a time or all at once; and the
ones a pass carries as Apple's relevant `locations`.

Which stores a pass carries (Apple shows at most ten relevant locations per pass): the
item's own `locations` when it has some (set through the item API, or the store the
customer picked on the campaign's location selector, which is the selector's whole point:
"pick their store location"); otherwise the campaign's first ten stores, in the order
they were added. Adding or deleting stores changes what every pass without its own
locations shows, so it bumps the campaign's passes and pushes to Apple devices like a
design change does.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from vibesweb.errors import DomainError, DomainErrors
from vibesweb.inputs import parse_id

from ..errors import (
    WalletIdempotencyKeyReused,
    WalletInvalid,
    WalletLocationNotFound,
    WalletRequired,
)
from ..models import WalletCampaign, WalletItem, WalletLocation, WalletLocationBatch
from .campaigns import campaign_passes_changed

MAX_BULK = 1000
MAX_PASS_LOCATIONS = 10  # Apple: at most ten relevant locations per pass
MAX_IDEMPOTENCY_KEY = 255
TEXT_FIELDS = {
    "location_id": 255,
    "name": 255,
    "address": 255,
    "address_2": 255,
    "city": 255,
    "state": 255,
    "zip": 32,
    "phone_number": 64,
    "store_hours": 255,
    "notification_message": 500,
}
COORDINATES = {"latitude": 90, "longitude": 180}


def coordinate_clean(name: str, value: Any, where: str) -> Decimal:
    """A latitude or longitude given as a string or a number, within range, at most six
    decimals (about 0.1 m). Raises WalletInvalid."""
    limit = COORDINATES[name]
    problem = WalletInvalid(f"{where}.{name} must be a number from -{limit} to {limit}")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise problem
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise problem from None
    if not number.is_finite() or abs(number) > limit:
        raise problem
    return number.quantize(Decimal("0.000001"))


def location_clean(entry: Any, where: str) -> dict:
    """The model fields of one `walletLocation`. Raises DomainErrors."""
    if not isinstance(entry, dict):
        raise WalletInvalid(f"{where} must be an object")
    errors: list[DomainError] = []
    known = set(TEXT_FIELDS) | set(COORDINATES)
    errors += [
        WalletInvalid(f"{where}.{str(name)[:64]} is not a location property")
        for name in sorted(set(entry) - known)
    ]
    cleaned: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        value = entry.get(name)
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool) and name == "location_id":
            value = str(value)  # identifiers are strings or integers (SPEC 12)
        if not isinstance(value, str) or len(value) > limit:
            errors.append(WalletInvalid(f"{where}.{name} must be text of at most {limit}"))
        else:
            cleaned[name] = value.strip()
    for name in COORDINATES:
        if entry.get(name) in (None, ""):
            errors.append(WalletRequired(f"{where}.{name} is required"))
            continue
        try:
            cleaned[name] = coordinate_clean(name, entry[name], where)
        except DomainError as error:
            errors.append(error)
    if errors:
        raise DomainErrors(errors)
    return cleaned


def locations_clean(locations: Any) -> list[dict]:
    """Every location of a bulk body, checked. Raises DomainErrors listing every problem."""
    if not isinstance(locations, list) or not locations:
        raise WalletRequired("locations must be a list of 1 to 1000 store locations")
    if len(locations) > MAX_BULK:
        raise WalletInvalid(f"at most {MAX_BULK} locations per request")
    errors: list[DomainError] = []
    cleaned = []
    for index, entry in enumerate(locations):
        try:
            cleaned.append(location_clean(entry, f"locations[{index}]"))
        except DomainErrors as error:
            errors += error.errors
        except DomainError as error:
            errors.append(error)
    if errors:
        raise DomainErrors(errors[:50])
    return cleaned


def idempotency_key_clean(value: str | None) -> str:
    if not value or not value.strip():
        raise WalletRequired("the Idempotency-Key header is required")
    if len(value) > MAX_IDEMPOTENCY_KEY:
        raise WalletInvalid(f"Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY} characters")
    return value


def wallet_locations_add(
    *, campaign: WalletCampaign, body: dict, idempotency_key: str | None
) -> list[dict]:
    """Add the body's `locations` (up to 1000) to the campaign; the payloads of the
    stores added. Idempotent by key: the same key and body answer the first result and
    insert nothing; the same key with another body is WalletIdempotencyKeyReused (422).
    Transactional: all are added or none (DomainErrors for bad input)."""
    key = idempotency_key_clean(idempotency_key)
    cleaned = locations_clean(body.get("locations"))
    digest = hashlib.sha256(json.dumps(cleaned, sort_keys=True, default=str).encode()).hexdigest()
    earlier = _batch_of(campaign, key)
    if earlier is None:
        try:
            return _batch_insert(campaign, key, digest, cleaned)
        except IntegrityError:  # the same key at the same moment: the first one wins
            earlier = _batch_of(campaign, key)
    if earlier.request_digest != digest:
        raise WalletIdempotencyKeyReused()
    return earlier.response


def _batch_of(campaign: WalletCampaign, key: str) -> WalletLocationBatch | None:
    return WalletLocationBatch.objects.filter(campaign=campaign, idempotency_key=key).first()


def _batch_insert(campaign: WalletCampaign, key: str, digest: str, cleaned: list) -> list[dict]:
    with transaction.atomic():
        batch = WalletLocationBatch.objects.create(
            company_id=campaign.company_id,
            campaign=campaign,
            idempotency_key=key,
            request_digest=digest,
        )
        rows = WalletLocation.objects.bulk_create(
            WalletLocation(company_id=campaign.company_id, campaign=campaign, **fields)
            for fields in cleaned
        )
        batch.response = [location_payload(row) for row in rows]
        batch.save(update_fields=["response"])
        _stores_changed(campaign)
    return batch.response


def wallet_location_delete(*, campaign: WalletCampaign, location_id: Any) -> None:
    """Delete one store of the campaign; WalletLocationNotFound (404) for an id that is
    not one of its stores (another campaign's or company's included)."""
    with transaction.atomic():
        deleted, _ = WalletLocation.objects.filter(
            campaign=campaign, pk=parse_id(location_id)
        ).delete()
        if not deleted:
            raise WalletLocationNotFound(f"Store location {str(location_id)[:64]} not found")
        _stores_changed(campaign)


def wallet_locations_delete_all(*, campaign: WalletCampaign, zip_code: str | None) -> int:
    """Delete the campaign's stores (only those of `zip_code` when given); how many."""
    stores = WalletLocation.objects.filter(campaign=campaign)
    if zip_code is not None:
        stores = stores.filter(zip=zip_code)
    with transaction.atomic():
        deleted, _ = stores.delete()
        if deleted:
            _stores_changed(campaign)
    return deleted


def _stores_changed(campaign: WalletCampaign) -> None:
    campaign.__dict__.pop("_pass_locations", None)
    campaign_passes_changed(campaign=campaign)


def location_payload(location: WalletLocation) -> dict:
    """The platform's `walletLocationResponse` (coordinates as strings, as it writes them)."""
    body: dict[str, Any] = {"id": location.pk}
    for name in TEXT_FIELDS:
        body[name] = getattr(location, name) or None
    body["latitude"] = _coordinate_text(location.latitude)
    body["longitude"] = _coordinate_text(location.longitude)
    return body


def _coordinate_text(value: Decimal) -> str:
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def pass_locations(item: WalletItem) -> list[dict]:
    """The relevant locations the item's pass carries, `[{latitude, longitude,
    relevant_text?}]` (at most ten; the module's docstring gives the rule)."""
    if item.locations:
        return item.locations[:MAX_PASS_LOCATIONS]
    campaign = item.campaign
    cache = campaign.__dict__
    if "_pass_locations" not in cache:
        stores = WalletLocation.objects.filter(campaign=campaign).order_by("id")
        cache["_pass_locations"] = [
            store_as_pass_location(store) for store in stores[:MAX_PASS_LOCATIONS]
        ]
    return cache["_pass_locations"]


def store_as_pass_location(store: WalletLocation) -> dict:
    """A store as an item location (the item API's `{latitude, longitude, relevant_text}`)."""
    entry: dict[str, Any] = {"latitude": float(store.latitude), "longitude": float(store.longitude)}
    if store.notification_message:
        entry["relevant_text"] = store.notification_message
    return entry
