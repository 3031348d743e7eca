"""Registering, changing and ending callback registrations (SPEC section 6).

The API and the admin both call these; every rule about a registration is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from vibesweb.errors import Conflict, DomainError, DomainErrors, ErrorCode, Forbidden
from vibesweb.tenancy.models import Company

from ..crypto import encrypt_json, new_signing_secret
from ..destinations import destination_check
from ..models import CallbackRegistration
from ..types import CALLBACK_TYPES, SCOPE_KEYS, canonical_type
from .events import registrations_opened

UNSET: Any = object()
MAX_INTERVALS = 20
MAX_INTERVAL_SECONDS = 7 * 24 * 3600
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
# Headers the protocol sets itself; a registration may not override them.
RESERVED_HEADERS = {
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "x-event-id",
    "x-company-id",
    "x-callback-id",
    "x-delivery-attempts",
    "x-event-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
}


class RegistrationExists(Conflict):
    code = ErrorCode.ALREADY_EXISTS
    error_class = "CallbackAlreadyRegistered"
    default_message = "A callback of this type is already registered for this company"


class RegistrationEnded(Forbidden):
    error_class = "CallbackEnded"
    default_message = "This callback registration has ended and can no longer change"


def _invalid(message: str) -> DomainError:
    return DomainError(message)


def registration_create(
    *,
    company: Company,
    callback_type: str,
    url: str,
    method: str = "POST",
    content_type: str = "application/json",
    start_date=None,
    end_date=None,
    scope: dict | None = None,
    retry_intervals: list[int] | None = None,
    basic_auth: dict | None = None,
    headers: dict | None = None,
    notification_emails: list[str] | None = None,
    api_version: int = 1,
) -> tuple[CallbackRegistration, str]:
    """Register a callback; returns (registration, signing secret), the secret shown once.

    Raises DomainErrors (400) listing every invalid field, RegistrationExists (409) when
    the company has an open registration of that type.
    """
    registration = CallbackRegistration(company=company, api_version=api_version)
    signing_secret = new_signing_secret()
    fields = dict(
        callback_type=callback_type,
        url=url,
        method=method,
        content_type=content_type,
        start_date=start_date or timezone.now(),
        end_date=end_date,
        scope=scope or {},
        retry_intervals=retry_intervals or [],
        notification_emails=notification_emails or [],
    )
    _apply(registration, fields)
    _store_secrets(registration, basic_auth, headers or {}, signing_secret)
    _save_checked(registration)
    registrations_opened(company)
    return registration, signing_secret


def registration_update(
    *, registration: CallbackRegistration, basic_auth=UNSET, headers=UNSET, **changes
) -> CallbackRegistration:
    """Change a registration: omitted fields stay; `basic_auth=None` removes the credentials.

    Raises RegistrationEnded (403) for an ended registration, DomainErrors (400),
    RegistrationExists (409) when a type change collides.
    """
    if registration.is_ended():
        raise RegistrationEnded()
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    fields = {name: getattr(registration, name) for name in _EDITABLE}
    fields.update({k: v for k, v in changes.items() if v is not UNSET})
    _apply(registration, fields)
    if basic_auth is not UNSET or headers is not UNSET:
        secrets = registration.secrets
        _store_secrets(
            registration,
            secrets.get("basic_auth") if basic_auth is UNSET else basic_auth,
            secrets.get("headers", {}) if headers is UNSET else (headers or {}),
            secrets["signing_secret"],
        )
    _save_checked(registration)
    return registration


_EDITABLE = {
    "callback_type",
    "url",
    "method",
    "content_type",
    "start_date",
    "end_date",
    "scope",
    "retry_intervals",
    "notification_emails",
}


def registration_end(*, registration: CallbackRegistration) -> CallbackRegistration:
    """End a registration now (idempotent): it no longer fires; a new one may be made.

    Deliveries already written still go out.
    """
    now = timezone.now()
    if not registration.is_ended(now):
        registration.end_date = now
        registration.save(update_fields=["end_date", "updated_at"])
    return registration


def _apply(registration: CallbackRegistration, fields: dict) -> None:
    """Validate every field and set them; raises DomainErrors listing all problems."""
    errors: list[DomainError] = []
    canonical = canonical_type(str(fields["callback_type"] or ""))
    if canonical is None:
        errors.append(_invalid(f"callback_type must be one of: {', '.join(CALLBACK_TYPES)}"))
    fields["callback_type"] = canonical
    for check in (_check_destination, _check_dates, _check_intervals, _check_emails):
        errors.extend(check(fields))
    if canonical:
        errors.extend(_check_scope(registration.company, canonical, fields))
    if errors:
        raise DomainErrors(errors)
    for name, value in fields.items():
        setattr(registration, name, value)


def _check_destination(fields: dict) -> list[DomainError]:
    errors = []
    try:
        fields["url"] = destination_check(fields["url"])
    except DomainError as exc:
        errors.append(exc)
    if fields["method"] not in CallbackRegistration.Method.values:
        errors.append(_invalid("destination.method must be POST or PUT"))
    if fields["content_type"] not in CallbackRegistration.ContentType.values:
        errors.append(_invalid("destination.content_type must be application/json or text/json"))
    return errors


def _check_dates(fields: dict) -> list[DomainError]:
    start, end = fields["start_date"], fields["end_date"]
    if start and end and end <= start:
        return [_invalid("end_date must be after start_date")]
    return []


def _check_intervals(fields: dict) -> list[DomainError]:
    intervals = fields["retry_intervals"]
    if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS:
        return [_invalid(f"retry_scheme.intervals must be a list of at most {MAX_INTERVALS}")]
    if not all(isinstance(s, int) and 1 <= s <= MAX_INTERVAL_SECONDS for s in intervals):
        return [_invalid(f"retry_scheme.intervals are seconds from 1 to {MAX_INTERVAL_SECONDS}")]
    return []


def _check_emails(fields: dict) -> list[DomainError]:
    emails = fields["notification_emails"]
    if not isinstance(emails, list) or len(emails) > 10:
        return [_invalid("notification_emails must be a list of at most 10 addresses")]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            return [_invalid(f"notification_emails: '{str(email)[:100]}' is not an email address")]
    return []


def _check_scope(company: Company, callback_type: str, fields: dict) -> list[DomainError]:
    scope = fields["scope"]
    allowed = SCOPE_KEYS.get(callback_type, ())
    if not isinstance(scope, dict):
        return [_invalid("scope must be an object")]
    unknown = set(scope) - set(allowed)
    if unknown:
        keys = ", ".join(allowed) or "no scope"
        return [_invalid(f"{callback_type} takes {keys}; not {', '.join(sorted(unknown))}")]
    fields["scope"] = {key: str(value) for key, value in scope.items() if value is not None}
    for key, value in fields["scope"].items():
        check = _scope_checks.get(key)
        if check is not None and not check.exists(company, value):
            return [_invalid(f"scope.{key} {value} is not {check.noun} of this company")]
    return []


@dataclass(frozen=True)
class _ScopeCheck:
    exists: Callable[[Company, str], bool]
    noun: str


# Whether a scope's id names an object of the company is the owning app's knowledge: it
# registers a check at ready (mobiledb: list_id), so callbacks imports no domain model.
_scope_checks: dict[str, _ScopeCheck] = {}


def scope_check_register(key: str, exists: Callable[[Company, str], bool], *, noun: str) -> None:
    """Check `scope.<key>` of new registrations with `exists(company, value)`; a value it
    rejects answers "scope.<key> <value> is not <noun> of this company"."""
    _scope_checks[key] = _ScopeCheck(exists=exists, noun=noun)


def _store_secrets(registration, basic_auth, headers: dict, signing_secret: str) -> None:
    errors = _check_basic_auth(basic_auth) + _check_headers(headers)
    if errors:
        raise DomainErrors(errors)
    registration.secrets_encrypted = encrypt_json(
        {"basic_auth": basic_auth or None, "headers": headers, "signing_secret": signing_secret}
    )


def _check_basic_auth(basic_auth) -> list[DomainError]:
    if basic_auth is None:
        return []
    if (
        not isinstance(basic_auth, dict)
        or not isinstance(basic_auth.get("username"), str)
        or not isinstance(basic_auth.get("password"), str)
        or not basic_auth["username"]
        or ":" in basic_auth["username"]
    ):
        return [_invalid("basic_auth needs a username (without ':') and a password")]
    return []


def _check_headers(headers) -> list[DomainError]:
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
        return [_invalid(f"headers must be an object of at most {MAX_HEADERS} names")]
    for name, value in headers.items():
        # fullmatch: with match and "$", a name ending in a newline passed (and broke
        # every delivery of the registration).
        if (
            not isinstance(name, str)
            or not _HEADER_NAME.fullmatch(name)
            or name.lower() in RESERVED_HEADERS
        ):
            return [_invalid(f"headers: '{name[:100]}' is not a header name you may set")]
        if not isinstance(value, str) or len(value) > 1024 or any(c in value for c in "\r\n\0"):
            return [_invalid(f"headers: the value of '{name}' must be one line of text")]
    return []


def _save_checked(registration: CallbackRegistration) -> None:
    """Save unless another open registration of the type exists (409)."""
    with transaction.atomic():
        # Serialise registrations per company so two concurrent POSTs cannot both win.
        Company.objects.select_for_update().filter(pk=registration.company_id).first()
        if _open_exists(registration):
            raise RegistrationExists()
        try:
            with transaction.atomic():
                registration.save()
        except IntegrityError:
            raise RegistrationExists() from None


def _open_exists(registration: CallbackRegistration) -> bool:
    now = timezone.now()
    others = CallbackRegistration.objects.filter(
        company_id=registration.company_id, callback_type=registration.callback_type
    ).filter(Q(end_date__isnull=True) | Q(end_date__gt=now))
    if registration.pk:
        others = others.exclude(pk=registration.pk)
    if registration.is_ended(now):
        return False
    return others.exists()
