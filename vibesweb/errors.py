"""Domain errors shared by the API, the import and the admin.

Each error knows its platform error class (the `.persons` import report names it, per
seeds/004), its message, the HTTP status the API answers with, and a stable numeric
code for the API's errors body. The table of codes is in README.md ("Error codes").
"""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    # Request-level problems
    MALFORMED_BODY = 100
    BODY_NOT_OBJECT = 101
    UNSUPPORTED_MEDIA_TYPE = 102
    BODY_TOO_LARGE = 103
    INVALID_API_VERSION = 104
    LENGTH_REQUIRED = 105
    NOT_AUTHENTICATED = 110
    INVALID_CREDENTIALS = 111
    PERMISSION_DENIED = 112
    NOT_FOUND = 120
    METHOD_NOT_ALLOWED = 121
    NOT_ACCEPTABLE = 122
    RATE_LIMITED = 130
    # Field validation
    FIELD_REQUIRED = 200
    INVALID_VALUE = 201
    VALUE_TOO_LONG = 202
    INVALID_QUERY_PARAMETER = 203
    UNSAFE_TEXT = 204
    INVALID_MDN = 210
    E164_NOT_ALLOWED_IN_V1 = 211
    CUSTOM_FIELD_NOT_FOUND = 220
    INVALID_CUSTOM_FIELD_VALUE = 221
    INVALID_SELECT_OPTION = 222
    CHARACTER_SET_VIOLATION = 223
    CUSTOM_FIELD_TOO_LONG = 224
    INVALID_PERSON_ID = 230
    # State conflicts
    MDN_ALREADY_ASSIGNED = 300
    MDN_CHANGE_NOT_ALLOWED = 301
    EXTERNAL_ID_ALREADY_ASSIGNED = 302
    EXTERNAL_ID_MISMATCH = 303
    ALREADY_EXISTS = 304
    PERSON_CREATE_REQUIRES_IDENTIFIER = 305
    # Business-rule refusals
    NOT_ALLOWED_IN_STATE = 400
    UNPROCESSABLE = 422


class DomainError(Exception):
    """A refusal the caller can fix; never a server fault."""

    http_status = 400
    code = ErrorCode.INVALID_VALUE
    error_class = "Error"
    default_message = "Invalid request"

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)

    def as_entries(self) -> list[dict]:
        return [{"message": self.message, "code": int(self.code)}]


class DomainErrors(DomainError):
    """Several problems found in one request: the errors body lists each one."""

    def __init__(self, errors: list[DomainError]):
        self.errors = errors
        first = errors[0]
        self.http_status = first.http_status
        self.code = first.code
        self.error_class = first.error_class
        super().__init__(first.message, field=first.field)

    def as_entries(self) -> list[dict]:
        return [entry for error in self.errors for entry in error.as_entries()]


class NotFound(DomainError):
    http_status = 404
    code = ErrorCode.NOT_FOUND
    error_class = "NotFound"
    default_message = "Not found"


class Conflict(DomainError):
    http_status = 409
    code = ErrorCode.ALREADY_EXISTS
    error_class = "Conflict"
    default_message = "Conflict"


class Forbidden(DomainError):
    http_status = 403
    code = ErrorCode.NOT_ALLOWED_IN_STATE
    error_class = "Forbidden"
    default_message = "Not allowed in the current state"


class Unprocessable(DomainError):
    http_status = 422
    code = ErrorCode.UNPROCESSABLE
    error_class = "Unprocessable"
    default_message = "The request cannot be processed"
