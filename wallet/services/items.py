"""Wallet items: created by a SmartLink visit, updated by the API, admin and messages.

Every change a phone should see goes through `items_changed`, which bumps the items'
update tags and pushes to their devices after commit (wallet.services.push).
"""

from __future__ import annotations

import re
import uuid as uuid_module
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from mobiledb.models import Person
from mobiledb.validation import format_platform_datetime, parse_platform_datetime
from vibesweb.errors import DomainError, DomainErrors

from ..errors import WalletInvalid, WalletItemNotFound
from ..models import WalletCampaign, WalletItem
from .push import items_changed, now_tag

TOKEN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
ITEM_UUID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_TOKENS = 100
MAX_TOKEN_VALUE = 1000
MAX_LOCATIONS = 10  # Apple shows at most ten relevant locations per pass
MAX_NOTIFICATION = 500
MAX_GROUP_CODE = 255
READ_ONLY = {
    "wallet_item_id",
    "campaign_ref",
    "active",
    "provider",
    "person",
    "created_at",
    "updated_at",
    "url",
}


def wallet_item_get(*, campaign: WalletCampaign, wallet_item_id: str) -> WalletItem:
    item = WalletItem.objects.filter(campaign=campaign, uuid=wallet_item_id).first()
    if item is None:
        raise WalletItemNotFound(f"Wallet item {wallet_item_id[:64]} not found")
    item.campaign = campaign
    return item


def tokens_clean(tokens: Any, *, allow_null: bool, where: str = "tokens") -> dict:
    """String tokens with identifier names; `null` values only where they remove one.

    Raises DomainErrors listing every problem.
    """
    if not isinstance(tokens, dict):
        raise WalletInvalid(f"{where} must be an object of string values")
    errors: list[DomainError] = []
    if len(tokens) > MAX_TOKENS:
        errors.append(WalletInvalid(f"{where}: at most {MAX_TOKENS} tokens"))
    for name, value in tokens.items():
        if not TOKEN_NAME.match(name):
            shown = name[:64]
            errors.append(WalletInvalid(f"{where}: '{shown}' is not a valid token name"))
        elif value is None and allow_null:
            continue
        elif not isinstance(value, str):
            errors.append(WalletInvalid(f"{where}.{name} must be a string"))
        elif len(value) > MAX_TOKEN_VALUE:
            errors.append(WalletInvalid(f"{where}.{name} is longer than {MAX_TOKEN_VALUE}"))
    if errors:
        raise DomainErrors(errors)
    return tokens


def item_uuid_clean(value: str | None) -> str:
    """A customer-supplied wallet_item_id, or a new lowercase uuid when missing."""
    if not value:
        return str(uuid_module.uuid4())
    if not ITEM_UUID.match(value):
        raise WalletInvalid("uuid must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def wallet_item_open(
    *,
    campaign: WalletCampaign,
    wallet_item_id: str | None,
    tokens: dict,
    locations: list[dict] | None = None,
) -> tuple[WalletItem, bool]:
    """The SmartLink's item: created with `tokens` (and the `locations` of the stores the
    customer picked on the location selector) on the first visit, else the existing one
    unchanged (an unsigned link never rewrites a pass). Returns (item, created)."""
    wallet_item_id = item_uuid_clean(wallet_item_id)
    existing = WalletItem.objects.filter(campaign=campaign, uuid=wallet_item_id).first()
    if existing is not None:
        existing.campaign = campaign
        return existing, False
    tokens = tokens_clean(tokens, allow_null=False)
    item = WalletItem(company_id=campaign.company_id, campaign=campaign, uuid=wallet_item_id)
    item.tokens = dict(tokens)
    item.locations = list(locations or [])[:MAX_LOCATIONS]
    item.group_code = str(tokens.get("group_code", ""))[:MAX_GROUP_CODE]
    item.person = _person_of(campaign, tokens)
    item.update_tag = now_tag()
    _derive(item)
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:  # the same link opened twice at once: the first one wins
        return wallet_item_get(campaign=campaign, wallet_item_id=wallet_item_id), False
    return item, True


def _person_of(campaign: WalletCampaign, tokens: dict) -> Person | None:
    """The company's person a SmartLink names by `person_key` or `external_person_id`."""
    persons = Person.objects.filter(company_id=campaign.company_id)
    key, external = tokens.get("person_key"), tokens.get("external_person_id")
    if key:
        try:
            return persons.filter(person_key=uuid_module.UUID(key)).first()
        except ValueError:
            return None
    if external:
        return persons.filter(external_person_id=external).first()
    return None


def item_changes_clean(fields: dict) -> dict:
    """The checked changes of an API-shaped PUT body (read-only fields dropped).

    Raises DomainErrors listing every problem. The admin checks its form with it too.
    """
    errors: list[DomainError] = []
    changes: dict[str, Any] = {}
    for name, clean in (
        ("tokens", _clean_token_changes),
        ("locations", _clean_locations),
        ("passbook", _clean_passbook),
        ("google_wallet", _clean_google_wallet),
        ("group_code", _clean_group_code),
    ):
        if name in fields:
            try:
                changes[name] = clean(fields[name])
            except DomainErrors as error:
                errors.extend(error.errors)
            except DomainError as error:
                errors.append(error)
    if errors:
        raise DomainErrors(errors)
    return changes


def wallet_item_update(*, item: WalletItem, fields: dict) -> WalletItem:
    """Apply an API PUT body (SPEC 10): tokens merge, `null` removes one, omitted fields
    stay, read-only fields are ignored. Bumps the update tag and pushes after commit.
    Raises DomainErrors (nothing written)."""
    changes = item_changes_clean(fields)
    with transaction.atomic():
        item = WalletItem.objects.select_for_update().get(pk=item.pk)
        _apply(item, changes)
        _derive(item)
        item.save()
        items_changed(item_ids=[item.pk])
        item.refresh_from_db(fields=["update_tag", "updated_at"])
    return item


def _clean_token_changes(tokens: Any) -> dict:
    return tokens_clean(tokens, allow_null=True)


def _clean_locations(locations: Any) -> list[dict]:
    if locations is None:
        return []
    if not isinstance(locations, list) or len(locations) > MAX_LOCATIONS:
        raise WalletInvalid(f"locations must be a list of at most {MAX_LOCATIONS}")
    cleaned, errors = [], []
    for index, location in enumerate(locations):
        where = f"locations[{index}]"
        if not isinstance(location, dict):
            errors.append(WalletInvalid(f"{where} must be an object"))
            continue
        latitude, longitude = location.get("latitude"), location.get("longitude")
        text = location.get("relevant_text")
        if not _number_between(latitude, -90, 90):
            errors.append(WalletInvalid(f"{where}.latitude must be a number from -90 to 90"))
        if not _number_between(longitude, -180, 180):
            errors.append(WalletInvalid(f"{where}.longitude must be a number from -180 to 180"))
        if text is not None and (not isinstance(text, str) or len(text) > MAX_NOTIFICATION):
            errors.append(WalletInvalid(f"{where}.relevant_text must be short text"))
        entry = {"latitude": latitude, "longitude": longitude}
        if text:
            entry["relevant_text"] = text
        cleaned.append(entry)
    if errors:
        raise DomainErrors(errors)
    return cleaned


def _number_between(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _clean_passbook(passbook: Any) -> str:
    if not isinstance(passbook, dict):
        raise WalletInvalid('passbook must be an object such as {"notification": "..."}')
    notification = passbook.get("notification")
    if not isinstance(notification, str) or not notification.strip():
        raise WalletInvalid("passbook.notification must not be empty")
    if len(notification) > MAX_NOTIFICATION:
        raise WalletInvalid(f"passbook.notification is longer than {MAX_NOTIFICATION}")
    return notification


def _clean_google_wallet(google_wallet: Any) -> list[dict]:
    messages = google_wallet.get("messages") if isinstance(google_wallet, dict) else None
    if isinstance(messages, dict):  # the platform's documented shape: one object
        messages = [messages]
    if not isinstance(messages, list) or not messages or len(messages) > 10:
        raise WalletInvalid("google_wallet.messages must be {header, body} or a list of them")
    cleaned = []
    for index, message in enumerate(messages):
        where = f"google_wallet.messages[{index}]"
        if not isinstance(message, dict):
            raise WalletInvalid(f"{where} must be an object with header and body")
        header, body = message.get("header", ""), message.get("body")
        if not isinstance(body, str) or not body.strip():
            raise WalletInvalid(f"{where}.body must not be empty")
        if not isinstance(header, str) or len(header) > 255 or len(body) > MAX_NOTIFICATION:
            raise WalletInvalid(f"{where}: header or body too long")
        cleaned.append({"header": header, "body": body})
    return cleaned


def _clean_group_code(group_code: Any) -> str:
    if group_code is None:
        return ""
    if not isinstance(group_code, str) or len(group_code) > MAX_GROUP_CODE:
        raise WalletInvalid(f"group_code must be text of at most {MAX_GROUP_CODE}")
    return group_code


def _apply(item: WalletItem, changes: dict) -> None:
    if "tokens" in changes:
        merged = dict(item.tokens)
        for name, value in changes["tokens"].items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = value
        item.tokens = merged
    if "locations" in changes:
        item.locations = changes["locations"]
    if "passbook" in changes:
        item.notification = changes["passbook"]
    if "google_wallet" in changes:
        item.google_messages = changes["google_wallet"]
    if "group_code" in changes:
        item.group_code = changes["group_code"]


def _derive(item: WalletItem) -> None:
    """The filterable copies of first-class tokens (expiration_date, loyalty_balance)."""
    item.expiration_date = _token_date(item.tokens.get("expiration_date"))
    item.loyalty_balance = token_number(item.tokens.get("loyalty_balance"))


def _token_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_platform_datetime(value)
    except (ValueError, TypeError):
        return None


def token_number(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 16:
        return None
    return number.quantize(Decimal("0.0001"))


def item_expiration(item: WalletItem) -> datetime | None:
    """The item's own expiration (its `expiration_date` token) or its campaign's."""
    return item.expiration_date or item.campaign.expiration_date


def item_payload(item: WalletItem) -> dict:
    """The platform's wallet item object."""
    campaign = item.campaign
    body: dict[str, Any] = {
        "wallet_item_id": item.uuid,
        "group_code": item.group_code or None,
        "campaign_ref": {"id": campaign.wallet_id, "type": campaign.type, "url": campaign.url},
        "active": item.active,
        "provider": item.provider or None,
        "tokens": item.tokens,
        "locations": item.locations,
        "passbook": {"notification": item.notification or None},
        "google_wallet": {"messages": item.google_messages},
    }
    if item.person_id:
        body["person"] = {
            "id": str(item.person_id),
            "url": f"/companies/{campaign.company.key}/mobiledb/persons/{item.person_id}",
        }
    body["expiration_date"] = format_platform_datetime(item_expiration(item))
    body["created_at"] = format_platform_datetime(item.created_at)
    body["updated_at"] = format_platform_datetime(item.updated_at)
    body["url"] = item.url
    return body
