"""Lists are plain JSON arrays, as the platform returns them; the next page is in `Link`.

Cursor-based (RFC 8288 `rel="next"`), so page 10,000 costs what page 1 does.
`?limit=` defaults to 100, at most 1000.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from vibesweb.inputs import parse_id


class LinkHeaderCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = "id"
    cursor_query_param = "cursor"

    def decode_cursor(self, request):
        """DRF's cursor, with its position checked as an id: `ordering` is "id", and a
        forged cursor (`p=abc`) would otherwise reach the query and fail there."""
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and parse_id(position) is None:
            raise NotFound(self.invalid_cursor_message)
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
