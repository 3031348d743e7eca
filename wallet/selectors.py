"""Reads of wallet items: the API list's query filters."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from .errors import WalletInvalidFilter
from .models import WalletCampaign, WalletItem
from .services.items import TOKEN_NAME

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
