"""Reads of wallet items: the API list's query filters."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from vibesweb.errors import DomainError
from vibesweb.inputs import parse_id

from .errors import WalletInvalidFilter
from .models import WalletCampaign, WalletItem, WalletLocation
from .services.items import TOKEN_NAME
from .services.locations import coordinate_clean

PAGING_PARAMETERS = {"page_size", "page_token", "limit", "cursor"}
PROVIDERS = {"passbook", "google_wallet", "apple", "google"}
_PROVIDER_ALIASES = {"apple": "passbook", "google": "google_wallet"}


def wallet_items_list(*, campaign: WalletCampaign, params) -> QuerySet[WalletItem]:
    """The campaign's items matching `params` (SPEC 10: group_code, expiration_date=
    YYYY-MM-DD, provider, and any other name as a token). WalletInvalidFilter (400) for a
    malformed value or a name that cannot be a token."""
    items = WalletItem.objects.filter(campaign=campaign)
    for name in params:
        if name in PAGING_PARAMETERS:
            continue
        value = params.get(name)
        if name == "group_code":
            items = items.filter(group_code=value)
        elif name == "provider":
            if value not in PROVIDERS:
                raise WalletInvalidFilter("provider must be passbook or google_wallet")
            items = items.filter(provider=_PROVIDER_ALIASES.get(value, value))
        elif name == "expiration_date":
            items = items.filter(_expiring_on(campaign, _parse_day(value)))
        elif TOKEN_NAME.match(name):
            items = items.filter(**{f"tokens__{name}": value})
        else:
            raise WalletInvalidFilter(f"'{name[:64]}' is not a filter or a token name")
    return items


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WalletInvalidFilter("expiration_date must be a date such as 2026-06-30") from None


def _expiring_on(campaign: WalletCampaign, day: date) -> Q:
    # An item without its own expiration_date token expires with its campaign.
    own = Q(expiration_date__date=day)
    if campaign.expiration_date and campaign.expiration_date.date() == day:
        return own | Q(expiration_date__isnull=True)
    return own


def wallet_campaign_exists(company, wallet_id: str) -> bool:
    """Whether `wallet_id` is a campaign token of `company` (callback registration scope)."""
    return WalletCampaign.objects.filter(company=company, wallet_id=wallet_id).exists()


LOCATION_PAGE_SIZE = 100
MAX_LOCATION_PAGE_SIZE = 1000


def wallet_locations_page(*, campaign: WalletCampaign, params) -> tuple[list, int]:
    """One page of the campaign's stores in the order they were added, and how many match
    (reference OpenAPI: 1-indexed `page`, `page_size`, exact `zip`, `latitude`,
    `longitude`). WalletInvalidFilter (400) for a malformed value."""
    stores = WalletLocation.objects.filter(campaign=campaign).order_by("id")
    if "zip" in params:
        stores = stores.filter(zip=params["zip"])
    for name in ("latitude", "longitude"):
        if name in params:
            try:
                value = coordinate_clean(name, params[name], "filter")
            except DomainError:
                raise WalletInvalidFilter(f"{name} must be a number such as 41.8781") from None
            stores = stores.filter(**{name: value})
    page = _positive(params, "page", 1, 10**6)
    size = _positive(params, "page_size", LOCATION_PAGE_SIZE, MAX_LOCATION_PAGE_SIZE)
    start = (page - 1) * size
    return list(stores[start : start + size]), stores.count()


def _positive(params, name: str, default: int, limit: int) -> int:
    if name not in params:
        return default
    value = parse_id(params[name])
    if value is None or not 1 <= value <= limit:
        raise WalletInvalidFilter(f"{name} must be a whole number from 1 to {limit}")
    return value
