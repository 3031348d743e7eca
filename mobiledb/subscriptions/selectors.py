"""Reads of subscription lists and subscriptions that other code asks for."""

from __future__ import annotations

from vibesweb.tenancy.models import Company

from .models import SubscriptionList


def subscription_list_exists(company: Company, list_id: str) -> bool:
    """Whether `list_id` (text, as a callback registration's scope holds it) is a list of
    `company`."""
    return (
        list_id.isdigit() and SubscriptionList.objects.filter(company=company, pk=list_id).exists()
    )
