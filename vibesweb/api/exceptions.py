"""The one errors body: `{"errors": [{"message": ..., "code": N}]}` for every 4XX (seeds/003).

Wired as DRF's EXCEPTION_HANDLER, and reused by the URL-level 404/500 handlers so that
even a path no view matches answers in the platform's shape.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from vibesweb.api.versioning import DEFAULT_VERSION, parse_api_version
from vibesweb.errors import DomainError, ErrorCode

logger = logging.getLogger(__name__)

_CODES_BY_EXCEPTION: list[tuple[type[Exception], ErrorCode]] = [
    (exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.INVALID_CREDENTIALS),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, ErrorCode.RATE_LIMITED),
    (exceptions.ParseError, ErrorCode.MALFORMED_BODY),
]

# DRF's validation error codes mapped to ours; anything else is INVALID_VALUE.
_VALIDATION_CODES = {
    "required": ErrorCode.FIELD_REQUIRED,
    "null": ErrorCode.FIELD_REQUIRED,
    "blank": ErrorCode.FIELD_REQUIRED,
    "max_length": ErrorCode.VALUE_TOO_LONG,
}


def errors_body(entries: list[dict]) -> dict:
    return {"errors": entries}


def _validation_entries(detail, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into one entry per problem, named by field path."""
    if isinstance(detail, dict):
        entries = []
        for field, sub in detail.items():
            name = "" if field == "non_field_errors" else str(field)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            entries.extend(_validation_entries(sub, path))
        return entries
    if isinstance(detail, list):
        return [entry for item in detail for entry in _validation_entries(item, prefix)]
    code = _VALIDATION_CODES.get(getattr(detail, "code", ""), ErrorCode.INVALID_VALUE)
    message = f"{prefix}: {detail}" if prefix else str(detail)
    return [{"message": message, "code": int(code)}]


def errors_body_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every client error becomes the errors body."""
    headers = {}
    if isinstance(exc, DomainError):
        return Response(errors_body(exc.as_entries()), status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        entry = {"message": "The request body is too large", "code": int(ErrorCode.BODY_TOO_LARGE)}
        return Response(errors_body([entry]), status=413)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a genuine server fault: let Django log it and answer 500
    if isinstance(exc, exceptions.ValidationError):
        entries = _validation_entries(exc.detail)
    else:
        code = next((c for kind, c in _CODES_BY_EXCEPTION if isinstance(exc, kind)), None)
        code = code or ErrorCode.INVALID_VALUE
        entries = [{"message": str(exc.detail), "code": int(code)}]
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    return Response(errors_body(entries), status=exc.status_code, headers=headers)


def _versioned_json(request, entry: dict, status: int) -> JsonResponse:
    """An errors body for a request no API view handled, still carrying `X-API-Version`
    (the version asked for, or the default when it is missing or not one we speak)."""
    try:
        version = parse_api_version(request.META.get("HTTP_X_API_VERSION"))
    except DomainError:
        version = DEFAULT_VERSION
    return JsonResponse(
        errors_body([entry]), status=status, headers={"X-API-Version": str(version)}
    )


def json_not_found(request, exception=None):
    entry = {"message": f"No such resource: {request.path}", "code": int(ErrorCode.NOT_FOUND)}
    return _versioned_json(request, entry, 404)


def json_server_error(request):
    # Only reached by a bug: the body stays in the platform's shape, without a traceback.
    return _versioned_json(request, {"message": "Internal server error", "code": 500}, 500)


def json_bad_request(request, exception=None):
    entry = {"message": "Bad request", "code": int(ErrorCode.INVALID_VALUE)}
    return _versioned_json(request, entry, 400)
