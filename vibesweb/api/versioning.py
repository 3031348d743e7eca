"""`X-API-Version`: 1 (the default) or 2; anything else answers 400 (seeds/003)."""

from __future__ import annotations

from rest_framework.versioning import BaseVersioning

from vibesweb.errors import DomainError, ErrorCode

SUPPORTED_VERSIONS = (1, 2)
DEFAULT_VERSION = 1


class InvalidAPIVersion(DomainError):
    code = ErrorCode.INVALID_API_VERSION
    error_class = "InvalidAPIVersion"
    default_message = "X-API-Version must be 1 or 2"


def parse_api_version(raw: str | None) -> int:
    if raw is None or raw.strip() == "":
        return DEFAULT_VERSION
    value = raw.strip()
    if value not in {str(v) for v in SUPPORTED_VERSIONS}:
        raise InvalidAPIVersion(f"Unsupported X-API-Version '{value[:20]}': use 1 or 2")
    return int(value)


class HeaderAPIVersioning(BaseVersioning):
    def determine_version(self, request, *args, **kwargs) -> int:
        return parse_api_version(request.META.get("HTTP_X_API_VERSION"))
