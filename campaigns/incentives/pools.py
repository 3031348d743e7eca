"""Incentive pools: create and change them through one validation path (API and admin)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from vibesweb.errors import DomainError, DomainErrors, ErrorCode
from vibesweb.inputs import parse_id
from vibesweb.tenancy.models import Company

from .errors import DistributionLocked, IncentivePoolInvalid
from .models import MAX_CODE_CHARACTERS, IncentiveIssuance, IncentivePool

POOL_FIELDS = (
    "name",
    "issuance_allowed",
    "redemption_allowed",
    "low_threshold",
    "max_characters",
    "distribution",
    "notification_email_address",
)
# How the API's nested body names each field, for error messages.
FIELD_LABELS = {
    "low_threshold": "incentive_codes.low_threshold",
    "max_characters": "incentive_codes.max_characters",
    "distribution": "distribution.method",
}


def _invalid(name: str, message: str, code: ErrorCode = ErrorCode.INVALID_VALUE) -> DomainError:
    error = IncentivePoolInvalid(f"{FIELD_LABELS.get(name, name)} {message}", field=name)
    error.code = code
    return error


def _whole_number(name: str, value: Any, *, low: int, high: int) -> int:
    # JSON numbers only (a digit string is accepted too): 1.5, true, "ten" and -1 are refused.
    if isinstance(value, str) and parse_id(value.strip()) is not None:
        value = parse_id(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name, f"must be a whole number between {low} and {high}")
    if not low <= value <= high:
        raise _invalid(name, f"must be a whole number between {low} and {high}")
    return value


def _clean_one(name: str, value: Any) -> Any:
    if name == "name":
        if not isinstance(value, str) or not value.strip():
            raise _invalid(name, "must be a non-empty string", ErrorCode.FIELD_REQUIRED)
        if len(value) > 255:
            raise _invalid(name, "is longer than 255 characters", ErrorCode.VALUE_TOO_LONG)
        return value.strip()
    if name in ("issuance_allowed", "redemption_allowed"):
        if not isinstance(value, bool):
            raise _invalid(name, "must be true or false")
        return value
    if name == "low_threshold":
        return _whole_number(name, value, low=0, high=2**31 - 1)
    if name == "max_characters":
        return _whole_number(name, value, low=1, high=MAX_CODE_CHARACTERS)
    if name == "distribution":
        if value not in IncentivePool.Distribution.values:
            raise _invalid(name, "must be 'unique' or 'multi'")
        return value
    if name == "notification_email_address":
        if value is None or value == "":
            return ""
        try:
            validate_email(value)
        except (ValidationError, TypeError):
            raise _invalid(name, f"{str(value)[:64]!r} is not an email address") from None
        return value
    raise _invalid(name, "is not a pool field")


def incentive_pool_clean(changes: dict[str, Any]) -> dict[str, Any]:
    """The checked values of `changes` (pool field name -> value); DomainErrors (400)
    names every bad field at once."""
    cleaned, errors = {}, []
    for name, value in changes.items():
        try:
            cleaned[name] = _clean_one(name, value)
        except DomainError as error:
            errors.append(error)
    if errors:
        raise DomainErrors(errors)
    return cleaned


@transaction.atomic
def incentive_pool_create(*, company: Company, **fields: Any) -> IncentivePool:
    """A new pool; `name` is required, the rest default (unique, issuance and redemption
    allowed, threshold 0, 255 characters). Raises DomainErrors (400)."""
    fields.setdefault("name", None)
    pool = IncentivePool(company=company, **incentive_pool_clean(fields))
    pool.save()
    return pool


@transaction.atomic
def incentive_pool_update(*, pool: IncentivePool, **changes: Any) -> IncentivePool:
    """Change a pool (omitted fields stay). `distribution` may change only while no code
    was issued from it: DistributionLocked (403). Raises DomainErrors (400)."""
    cleaned = incentive_pool_clean(changes)
    locked = IncentivePool.objects.select_for_update().get(pk=pool.pk)
    new_distribution = cleaned.get("distribution", locked.distribution)
    changing = new_distribution != locked.distribution
    if changing and IncentiveIssuance.objects.filter(pool_id=locked.pk).exists():
        raise DistributionLocked()
    for name, value in cleaned.items():
        setattr(locked, name, value)
    locked.save()
    locked.company = pool.company
    return locked
