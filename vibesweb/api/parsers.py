"""JSON parsing with the platform's error rules: size limit (413) and object bodies."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework.parsers import JSONParser

from vibesweb.errors import DomainError, ErrorCode
from vibesweb.inputs import TooDeep, refuse_unsafe_json


class BodyTooLarge(DomainError):
    http_status = 413
    code = ErrorCode.BODY_TOO_LARGE
    error_class = "BodyTooLarge"
    default_message = "The request body is too large"


class MalformedBody(DomainError):
    code = ErrorCode.MALFORMED_BODY
    error_class = "MalformedBody"
    default_message = "The request body is not valid JSON"


class BoundedJSONParser(JSONParser):
    """Accepts application/json and text/json; refuses oversized bodies before reading."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if request is not None:
            length = request.META.get("CONTENT_LENGTH") or 0
            try:
                if int(length) > limit:
                    raise BodyTooLarge(f"The request body is larger than {limit} bytes")
            except ValueError:
                pass
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(f"The request body is larger than {limit} bytes")
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedBody(f"The request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise TooDeep() from None
        # Every string and key at any depth, once, for every endpoint (issue 16).
        return refuse_unsafe_json(data)


class TextJSONParser(BoundedJSONParser):
    media_type = "text/json"
