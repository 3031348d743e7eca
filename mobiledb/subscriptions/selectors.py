"""Reads of subscription lists and subscriptions that other code asks for."""

from __future__ import annotations

from vibesweb.inputs import parse_id
from vibesweb.tenancy.models import Company

from .models import SubscriptionList


def subscription_list_exists(company: Company, list_id: str) -> bool:
    """Whether `list_id` (text, as a callback registration's scope holds it) is a list of
    `company`."""
    pk = parse_id(list_id)  # ASCII digits only: "²".isdigit() is true, int("²") raises
    return pk is not None and SubscriptionList.objects.filter(company=company, pk=pk).exists()
