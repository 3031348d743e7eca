"""The platform's wallet message filters (SPEC 10, reference OpenAPI `wallet-filters`):

- `{"name": "first_class_field", "field_name": TOKEN, "selector": "=", "value": "x"}`,
  selectors `=`, `starts_with`, `any` (a list); `loyalty_balance` compares numbers
  (`= < <= > >= between`); a token named `expiration_date` compares dates;
- `{"name": "group_code"|"provider", "selector": "="|"starts_with"|"any", ...}`;
- `{"name": "expiration_date", "selector": "before"|"after"|"on"|"between", ...}`.

No filters select every item. `between` takes two values (a list, or "a,b").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet

from vibesweb.errors import DomainError, DomainErrors

from .errors import WalletInvalidFilter
from .models import WalletCampaign, WalletItem
from .services.items import TOKEN_NAME, token_number

TEXT_SELECTORS = {"=", "starts_with", "any"}
NUMBER_SELECTORS = {"=", "<", "<=", ">", ">=", "between", "any"}
DATE_SELECTORS = {"before", "after", "on", "between"}
PROVIDERS = {"passbook", "google_wallet"}
MAX_FILTERS = 20


def filters_clean(filters: Any) -> list[dict]:
    """The filters, checked and normalized; DomainErrors (400) lists every bad one."""
    if filters is None:
        return []
    if not isinstance(filters, list) or len(filters) > MAX_FILTERS:
        raise WalletInvalidFilter(f"filters must be a list of at most {MAX_FILTERS} filters")
    cleaned, errors = [], []
    for index, entry in enumerate(filters):
        try:
            cleaned.append(_clean_one(entry))
        except DomainError as error:
            errors.append(WalletInvalidFilter(f"filters[{index}]: {error.message}"))
    if errors:
        raise DomainErrors(errors)
    return cleaned


def _clean_one(entry: Any) -> dict:
    if not isinstance(entry, dict):
        raise WalletInvalidFilter("a filter is an object with name, selector and value")
    name, selector = entry.get("name"), entry.get("selector")
    value = entry.get("value")
    if name == "first_class_field":
        field = entry.get("field_name", entry.get("field-name"))
        if not isinstance(field, str) or not TOKEN_NAME.match(field):
            raise WalletInvalidFilter("field_name must be a token name")
        kind = {"loyalty_balance": "number", "expiration_date": "date"}.get(field, "text")
        return {
            "name": name,
            "field_name": field,
            "selector": selector,
            "value": _clean_value(kind, selector, value),
        }
    if name in ("group_code", "provider"):
        selectors = TEXT_SELECTORS if name == "group_code" else {"=", "any"}
        if selector not in selectors:
            raise WalletInvalidFilter(f"{name} takes the selectors {', '.join(sorted(selectors))}")
        value = _clean_value("text", selector, value)
        values = value if isinstance(value, list) else [value]
        if name == "provider" and not set(values) <= PROVIDERS:
            raise WalletInvalidFilter("provider is passbook or google_wallet")
        return {"name": name, "selector": selector, "value": value}
    if name == "expiration_date":
        return {"name": name, "selector": selector, "value": _clean_value("date", selector, value)}
    raise WalletInvalidFilter(
        f"unknown filter name {str(name)[:64]!r}: first_class_field, group_code, provider, "
        "expiration_date"
    )


def _clean_value(kind: str, selector: Any, value: Any) -> Any:
    allowed = {"text": TEXT_SELECTORS, "number": NUMBER_SELECTORS, "date": DATE_SELECTORS}[kind]
    if selector not in allowed:
        raise WalletInvalidFilter(f"selector must be one of {', '.join(sorted(allowed))}")
    if selector == "any":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise WalletInvalidFilter("'any' takes a non-empty list of strings")
        return [_scalar(kind, v) for v in value] if kind == "number" else value
    if selector == "between":
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list) or len(parts) != 2:
            raise WalletInvalidFilter("'between' takes two values")
        low, high = (_scalar(kind, str(part).strip()) for part in parts)
        return [low, high]
    if not isinstance(value, str | int | float) or isinstance(value, bool) or value == "":
        raise WalletInvalidFilter(f"selector {selector} takes one value")
    return _scalar(kind, str(value))


def _scalar(kind: str, value: str) -> Any:
    if kind == "number":
        if token_number(value) is None:
            raise WalletInvalidFilter(f"{value[:64]!r} is not a number")
        return value
    if kind == "date":
        _day(value)
        return value
    return value


def _day(value: str) -> date:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        raise WalletInvalidFilter(f"{value[:64]!r} is not a date such as 2026-06-30") from None


def items_matching(campaign: WalletCampaign, filters: list[dict]) -> QuerySet[WalletItem]:
    """The campaign's items that every (cleaned) filter selects."""
    items = WalletItem.objects.filter(campaign=campaign)
    for entry in filters:
        items = items.filter(_condition(campaign, entry))
    return items


def _condition(campaign: WalletCampaign, entry: dict) -> Q:
    name, selector, value = entry["name"], entry["selector"], entry["value"]
    if name == "expiration_date" or entry.get("field_name") == "expiration_date":
        return _date_condition(campaign, selector, value)
    if entry.get("field_name") == "loyalty_balance":
        return _number_condition(selector, value)
    column = f"tokens__{entry['field_name']}" if name == "first_class_field" else name
    if selector == "=":
        return Q(**{column: value})
    if selector == "starts_with":
        return Q(**{f"{column}__startswith": value})
    return Q(**{f"{column}__in": value})


_COMPARISONS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _number_condition(selector: str, value: Any) -> Q:
    if selector == "between":
        low, high = sorted(token_number(v) for v in value)
        return Q(loyalty_balance__gte=low, loyalty_balance__lte=high)
    if selector == "any":
        return Q(loyalty_balance__in=[token_number(v) for v in value])
    return Q(**{f"loyalty_balance__{_COMPARISONS[selector]}": token_number(value)})


def _date_condition(campaign: WalletCampaign, selector: str, value: Any) -> Q:
    if selector == "between":
        low, high = sorted(_day(v) for v in value)
        lookups = {"gte": low, "lte": high}
    else:
        day = _day(value)
        lookups = {{"before": "lt", "after": "gt", "on": "exact"}[selector]: day}
    own = Q(**{f"expiration_date__date__{op}": day for op, day in lookups.items()})
    # An item without its own expiration date expires with its campaign.
    inherited = campaign.expiration_date is not None and all(
        _compare(campaign.expiration_date.date(), op, day) for op, day in lookups.items()
    )
    return own | Q(expiration_date__isnull=True) if inherited else own


def _compare(left: date, op: str, right: date) -> bool:
    return {
        "lt": left < right,
        "gt": left > right,
        "lte": left <= right,
        "gte": left >= right,
        "exact": left == right,
    }[op]
