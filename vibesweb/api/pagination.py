"""Lists are plain JSON arrays, as the platform returns them; the next page is in `Link`.

Cursor-based (RFC 8288 `rel="next"`), so page 10,000 costs what page 1 does.
`?limit=` defaults to 100, at most 1000.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from vibesweb.errors import DomainError, ErrorCode
from vibesweb.inputs import parse_id


class InvalidPaginationParameter(DomainError):
    code = ErrorCode.INVALID_QUERY_PARAMETER
    error_class = "InvalidQueryParameter"


class LinkHeaderCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = "id"
    cursor_query_param = "cursor"

    def get_page_size(self, request) -> int:
        """`?limit=` a whole number from 1 (larger than the maximum reads as the maximum);
        anything else is refused rather than silently answering a default page."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        limit = parse_id(raw.strip())  # ASCII digits only: int("²") raises
        if limit is None or limit < 1:
            raise InvalidPaginationParameter(
                f"limit: expected a whole number from 1 to {self.max_page_size}, got '{raw[:20]}'"
            )
        return min(limit, self.max_page_size)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            forged = True
        else:
            # `ordering` is "id": a forged position (`p=abc`) would fail in the query.
            position = cursor.position if cursor is not None else None
            forged = position is not None and parse_id(position) is None
        if forged:
            raise InvalidPaginationParameter(
                "cursor: not a cursor this API returned (follow the Link header)"
            )
        return cursor

    def get_paginated_response(self, data):
        headers = {}
        links = []
        next_url = self.get_next_link()
        previous_url = self.get_previous_link()
        if next_url:
            links.append(f'<{next_url}>; rel="next"')
        if previous_url:
            links.append(f'<{previous_url}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema
