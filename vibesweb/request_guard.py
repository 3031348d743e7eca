"""The request guard: input that no view should ever see is refused at the edge.

Runs before everything else for the API and the admin alike, so no view, serializer,
form or query has to remember it (issue 16):

- a NUL character or a lone surrogate in the path, a query-string key or value, a header
  or the Basic-auth username answers 400 with the errors body (PostgreSQL refuses NUL
  in a query parameter, and a lone surrogate cannot be encoded to UTF-8);
- a body sent with `Transfer-Encoding: chunked` and no `Content-Length` answers 411:
  WSGI servers hand such bodies to Django as empty, so it would be silently ignored.

JSON bodies are checked by the parser (vibesweb.api.parsers), which walks them anyway.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from vibesweb.errors import DomainError, ErrorCode
from vibesweb.inputs import refuse_unsafe_text


def _errors(status: int, message: str, code: int) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "code": code}]}, status=status)


def _basic_username(header: str) -> str | None:
    """The username of a Basic credential, decoded as DRF does (UTF-8, else latin-1)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=False)
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    return decoded.partition(":")[0]


def refuse_unsafe_request(request: HttpRequest) -> None:
    """Raise UnsafeText for the first unsafe text in the path, query string or headers."""
    refuse_unsafe_text(request.path_info, where="path")
    for key, values in request.GET.lists():
        refuse_unsafe_text(key, where="query parameter name")
        for value in values:
            refuse_unsafe_text(value, where=f"query parameter '{key[:50]}'")
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            refuse_unsafe_text(value, where=f"header {key[5:].replace('_', '-').title()}")
    username = _basic_username(request.META.get("HTTP_AUTHORIZATION", ""))
    if username is not None:
        refuse_unsafe_text(username, where="Basic-auth username")


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refuse_unsafe_request(request)
        except DomainError as error:
            return _errors(error.http_status, error.message, int(error.code))
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not (
            request.META.get("CONTENT_LENGTH")
        ):
            return _errors(
                411,
                "Send the body with a Content-Length header (chunked bodies are not accepted)",
                int(ErrorCode.LENGTH_REQUIRED),
            )
        return self.get_response(request)
