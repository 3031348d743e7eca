"""Wallet campaigns: create, update, read (one validation path for API, admin, command)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from mobiledb.validation import format_platform_datetime, parse_platform_datetime
from vibesweb.errors import DomainError, DomainErrors
from vibesweb.tenancy.models import Company

from ..design import IMAGE_NAMES, InvalidDesign, design_clean, image_clean
from ..errors import WalletCampaignNotFound, WalletInvalid, WalletRequired, WalletTypeImmutable
from ..links import image_url, smartlink_url
from ..models import DeviceRegistration, WalletCampaign, WalletItem, new_wallet_id
from .push import now_tag, pushes_on_commit

TYPES = WalletCampaign.Type.values
EDITABLE = ("name", "description", "expiration_date", "redirect_link", "design", "images")


def wallet_campaign_get(*, company: Company, wallet_id: str) -> WalletCampaign:
    """The company's campaign by its wallet_id; WalletCampaignNotFound (404) otherwise,
    another company's included."""
    campaign = (
        WalletCampaign.objects.select_related("company")
        .filter(company=company, wallet_id=wallet_id)
        .first()
    )
    if campaign is None:
        raise WalletCampaignNotFound(f"Wallet campaign {wallet_id[:64]} not found")
    return campaign


def campaign_type_clean(value: Any) -> str:
    """`offer`, `loyalty` or `event_ticket`, accepted in any case."""
    if not isinstance(value, str) or value.strip().lower() not in TYPES:
        raise WalletInvalid(f"type must be one of: {', '.join(TYPES)}")
    return value.strip().lower()


def wallet_campaign_create(*, company: Company, fields: dict) -> WalletCampaign:
    """Create a campaign from API-shaped `fields` (name and type required).

    Raises DomainErrors listing every problem; nothing is written then.
    """
    errors: list[DomainError] = []
    if not isinstance(fields.get("name"), str) or not fields["name"].strip():
        errors.append(WalletRequired("name is required"))
    campaign_type = None
    if fields.get("type") is None:
        errors.append(WalletRequired("type is required"))
    else:
        try:
            campaign_type = campaign_type_clean(fields["type"])
        except DomainError as error:
            errors.append(error)
    changes = _clean_changes(fields, errors)
    if errors:
        raise DomainErrors(errors)
    campaign = WalletCampaign(company=company, type=campaign_type, name=fields["name"].strip())
    _apply(campaign, changes)
    if not changes.get("design"):
        campaign.design = design_clean({})
    _save_with_unique_wallet_id(campaign)
    return campaign


def wallet_campaign_update(*, campaign: WalletCampaign, fields: dict) -> WalletCampaign:
    """Update from API-shaped `fields`: omitted ones stay; `type` may only repeat itself
    (WalletTypeImmutable, 422, otherwise). Raises DomainErrors; nothing half-written."""
    errors: list[DomainError] = []
    if "type" in fields:
        try:
            if campaign_type_clean(fields["type"]) != campaign.type:
                errors.append(WalletTypeImmutable(f"type is {campaign.type} and cannot change"))
        except DomainError as error:
            errors.append(error)
    if "name" in fields and (not isinstance(fields["name"], str) or not fields["name"].strip()):
        errors.append(WalletRequired("name must not be empty"))
    changes = _clean_changes(fields, errors)
    if errors:
        raise DomainErrors(errors)
    if "name" in fields:
        campaign.name = fields["name"].strip()
    _apply(campaign, changes)
    with transaction.atomic():
        campaign.save()
        if set(changes) & PASS_CHANGES:
            campaign_passes_changed(campaign=campaign)
    return campaign


# What every pass of the campaign shows: a change reaches each installed pass.
PASS_CHANGES = {"design", "images", "expiration_date", "description"}


def campaign_passes_changed(*, campaign: WalletCampaign) -> None:
    """Bump every item's update tag; push to the items installed on Apple devices."""
    WalletItem.objects.filter(campaign=campaign).update(
        update_tag=Greatest(F("update_tag") + 1, Value(now_tag()))
    )
    installed = DeviceRegistration.objects.filter(
        item__campaign=campaign, unregistered_at__isnull=True, provider="apple"
    ).values_list("item_id", flat=True)
    pushes_on_commit(item_ids=list(installed.distinct()))


def _clean_changes(fields: dict, errors: list[DomainError]) -> dict:
    changes: dict[str, Any] = {}
    if len(str(fields.get("name") or "")) > 255:
        errors.append(WalletInvalid("name is longer than 255 characters"))
    if "description" in fields:
        value = fields["description"]
        if value is not None and not isinstance(value, str):
            errors.append(WalletInvalid("description must be text"))
        else:
            changes["description"] = value or ""
    if "expiration_date" in fields:
        changes["expiration_date"] = _clean_date(fields["expiration_date"], errors)
    if "redirect_link" in fields:
        changes["redirect_link"] = _clean_link(fields["redirect_link"], errors)
    if "design" in fields:
        try:
            changes["design"] = design_clean(fields["design"])
        except DomainError as error:
            errors.extend(error.errors if isinstance(error, DomainErrors) else [error])
    if "images" in fields:
        changes["images"] = _clean_images(fields["images"], errors)
    return changes


def _clean_date(value: Any, errors: list[DomainError]) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_platform_datetime(str(value))
    except (ValueError, TypeError):
        errors.append(WalletInvalid("expiration_date must be ISO 8601, e.g. 2026-06-30T23:59:59Z"))
        return None


def _clean_link(value: Any, errors: list[DomainError]) -> str:
    if value in (None, ""):
        return ""
    try:
        if not isinstance(value, str) or len(value) > 1024:
            raise ValidationError("bad")
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        errors.append(WalletInvalid("redirect_link must be an http(s) URL"))
        return ""
    return value


def _clean_images(images: Any, errors: list[DomainError]) -> dict:
    """`{"logo": "<base64 PNG>" | null, ...}` -> {name: bytes} (b"" removes the image)."""
    if not isinstance(images, dict) or set(images) - set(IMAGE_NAMES):
        errors.append(InvalidDesign(f"images must be an object with {', '.join(IMAGE_NAMES)}"))
        return {}
    cleaned = {}
    for name, value in images.items():
        if value is None:
            cleaned[name] = b""
            continue
        try:
            data = base64.b64decode(value, validate=True) if isinstance(value, str) else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            errors.append(InvalidDesign(f"images.{name} must be a base64 PNG"))
            continue
        try:
            cleaned[name] = image_clean(name, data)
        except DomainError as error:
            errors.append(error)
    return cleaned


def _apply(campaign: WalletCampaign, changes: dict) -> None:
    for name, value in changes.items():
        if name == "images":
            for image, data in value.items():
                setattr(campaign, f"{image}_image", data)
        else:
            setattr(campaign, name, value)


def _save_with_unique_wallet_id(campaign: WalletCampaign) -> None:
    # 64 random bits: a collision is astronomically rare, but a retry costs nothing.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                campaign.save(force_insert=True)
            return
        except IntegrityError:
            campaign.pk = None
            campaign.wallet_id = new_wallet_id()
    raise RuntimeError("could not draw a unique wallet_id")


def campaign_payload(campaign: WalletCampaign, *, root: str) -> dict:
    """The platform's wallet campaign object (optional fields only when set)."""
    body: dict[str, Any] = {
        "wallet_id": campaign.wallet_id,
        "name": campaign.name,
        "type": campaign.type,
        "smartlink_url": smartlink_url(campaign, root),
        "url": campaign.url,
    }
    if campaign.description:
        body["description"] = campaign.description
    if campaign.redirect_link:
        body["redirect_link"] = campaign.redirect_link
    if campaign.expiration_date:
        body["expiration_date"] = format_platform_datetime(campaign.expiration_date)
    body["design"] = campaign.design
    body["images"] = {
        name: image_url(campaign, name, root) if getattr(campaign, f"{name}_image") else None
        for name in IMAGE_NAMES
    }
    body["created_at"] = format_platform_datetime(campaign.created_at)
    body["updated_at"] = format_platform_datetime(campaign.updated_at)
    return body
