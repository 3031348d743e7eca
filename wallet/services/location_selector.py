"""A campaign's location selector (reference OpenAPI "Wallet Location Selector API"): the
branded "Add to Wallet" landing page where a customer picks their store before the pass is
made. While a campaign has one, its SmartLink shows that page first (wallet.public.
smartlink) and the pass carries the store picked (wallet.services.locations)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction

from mobiledb.validation import format_platform_datetime
from vibesweb.errors import DomainError, DomainErrors
from vibesweb.inputs import parse_id

from ..errors import (
    WalletAlreadyExists,
    WalletInvalid,
    WalletLocationSelectorNotFound,
    WalletRequired,
)
from ..links import smartlink_url
from ..models import WalletCampaign, WalletLocation, WalletLocationSelector
from .locations import MAX_PASS_LOCATIONS

ENVELOPE = "location_selector"
LANGUAGES = WalletLocationSelector.Language.values
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SECTIONS = {
    "image": {"url": "image_url"},
    "header": {"title": "title", "tagline": "tagline"},
    "colors": {
        "background": "background_color",
        "foreground": "foreground_color",
        "label": "label_color",
    },
}
_FLAT = ("fontsize", "include_zipcode", "add_to_wallet_language")


def selector_changes_clean(body: dict) -> dict:
    """Model field changes from a `{"location_selector": {...}}` body (a bare object is
    accepted); omitted values are absent, `null` resets one. Raises DomainErrors."""
    selector = body.get(ENVELOPE, body)
    if not isinstance(selector, dict):
        raise WalletRequired('the body must be {"location_selector": {...}}')
    errors: list[DomainError] = []
    changes: dict[str, Any] = {}
    for name in sorted(set(selector) - set(_SECTIONS) - set(_FLAT)):
        errors.append(WalletInvalid(f"{ENVELOPE}.{str(name)[:64]} is not a selector property"))
    for section, fields in _SECTIONS.items():
        value = selector.get(section)
        if value is None:
            continue
        if not isinstance(value, dict) or set(value) - set(fields):
            errors.append(WalletInvalid(f"{ENVELOPE}.{section} must be {{{', '.join(fields)}}}"))
            continue
        for name, column in fields.items():
            if name in value:
                where = f"{ENVELOPE}.{section}.{name}"
                changes[column] = _clean_text(column, value[name], where, errors)
    for name in _FLAT:
        if name in selector:
            changes[name] = _clean_flat(name, selector[name], errors)
    if errors:
        raise DomainErrors(errors)
    return changes


def _clean_text(column: str, value: Any, where: str, errors: list) -> str:
    if value is None:
        return ""
    limit = 1024 if column == "image_url" else 255
    if not isinstance(value, str) or len(value) > limit:
        errors.append(WalletInvalid(f"{where} must be text of at most {limit} characters"))
        return ""
    if column.endswith("_color") and value and not _COLOR.match(value):
        errors.append(WalletInvalid(f"{where} must be a hex colour such as #ffffff"))
    if column == "image_url" and value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            errors.append(WalletInvalid(f"{where} must be an http(s) URL"))
    return value.lower() if column.endswith("_color") else value


def _clean_flat(name: str, value: Any, errors: list) -> Any:
    where = f"{ENVELOPE}.{name}"
    if name == "fontsize":
        ok = value is None or (
            isinstance(value, int) and not isinstance(value, bool) and 6 <= value <= 72
        )
        if not ok:
            errors.append(WalletInvalid(f"{where} must be a whole number from 6 to 72"))
        return value
    if name == "include_zipcode":
        if value is not None and not isinstance(value, bool):
            errors.append(WalletInvalid(f"{where} must be true or false"))
        return bool(value)
    if value is None:
        return WalletLocationSelector.Language.EN_US
    if value not in LANGUAGES:
        errors.append(WalletInvalid(f"{where} must be one of: {', '.join(LANGUAGES)}"))
    return value


def wallet_location_selector_get(*, campaign: WalletCampaign) -> WalletLocationSelector:
    """The campaign's selector; WalletLocationSelectorNotFound (404) without one."""
    selector = WalletLocationSelector.objects.filter(campaign=campaign).first()
    if selector is None:
        raise WalletLocationSelectorNotFound(
            f"Wallet campaign {campaign.wallet_id} has no location selector"
        )
    selector.campaign = campaign
    return selector


def wallet_location_selector_create(
    *, campaign: WalletCampaign, body: dict
) -> WalletLocationSelector:
    """Create the campaign's selector (201); WalletAlreadyExists (409) when it has one,
    DomainErrors for bad input."""
    selector = WalletLocationSelector(company_id=campaign.company_id, campaign=campaign)
    for column, value in selector_changes_clean(body).items():
        setattr(selector, column, value)
    try:
        with transaction.atomic():
            selector.save(force_insert=True)
    except IntegrityError:
        raise WalletAlreadyExists(
            f"Wallet campaign {campaign.wallet_id} already has a location selector; PUT updates it"
        ) from None
    return selector


def wallet_location_selector_update(
    *, campaign: WalletCampaign, body: dict
) -> WalletLocationSelector:
    """Update the selector: given values replace theirs, omitted ones stay. 404 without
    one; DomainErrors for bad input (nothing written)."""
    changes = selector_changes_clean(body)
    selector = wallet_location_selector_get(campaign=campaign)
    for column, value in changes.items():
        setattr(selector, column, value)
    selector.save()
    return selector


def wallet_location_selector_delete(*, campaign: WalletCampaign) -> None:
    """Remove the selector (the SmartLink goes straight to the pass again); 404 without."""
    wallet_location_selector_get(campaign=campaign).delete()


def selector_payload(selector: WalletLocationSelector, *, root: str) -> dict:
    """The platform's `locationSelectorResponse`; `url` is the landing page: the
    campaign's SmartLink, which shows the selector first."""
    body: dict[str, Any] = {
        "token": selector.token,
        "url": smartlink_url(selector.campaign, root),
        "image": {"url": selector.image_url or None},
        "header": {"title": selector.title or None, "tagline": selector.tagline or None},
        "colors": {
            "background": selector.background_color or None,
            "foreground": selector.foreground_color or None,
            "label": selector.label_color or None,
        },
        "fontsize": selector.fontsize,
        "include_zipcode": selector.include_zipcode,
        "add_to_wallet_language": selector.add_to_wallet_language,
        "created_at": format_platform_datetime(selector.created_at),
        "updated_at": format_platform_datetime(selector.updated_at),
    }
    return body


# The selector's button, in its `add_to_wallet_language`.
ADD_TO_WALLET = {
    "en-US": "Add to Wallet",
    "es-ES": "Añadir a Wallet",
    "es-419": "Agregar a Wallet",
    "fr-FR": "Ajouter au portefeuille",
}
MAX_SHOWN_STORES = 200


def selector_stores_picked(
    *, selector: WalletLocationSelector, location: str | None, zipcode: str | None
) -> list[WalletLocation] | None:
    """The stores a SmartLink visit picked: `?location=<store id>` (one of the campaign's
    stores) or, when the selector has `include_zipcode`, `?zipcode=` (that zip's stores,
    at most ten, as Apple allows). None when nothing valid is picked: show the selector."""
    stores = WalletLocation.objects.filter(campaign_id=selector.campaign_id).order_by("id")
    if location is not None:
        store_id = parse_id(location)
        picked = list(stores.filter(pk=store_id)) if store_id is not None else []
        return picked or None
    if zipcode and selector.include_zipcode:
        return list(stores.filter(zip=zipcode.strip())[:MAX_PASS_LOCATIONS]) or None
    return None


def selector_stores_shown(selector: WalletLocationSelector) -> list[WalletLocation]:
    """The stores the landing page lists, in the order they were added."""
    stores = WalletLocation.objects.filter(campaign_id=selector.campaign_id).order_by("id")
    return list(stores[:MAX_SHOWN_STORES])
