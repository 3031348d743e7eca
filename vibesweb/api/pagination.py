"""Lists are plain JSON arrays, as the platform returns them; the next page is in `Link`.

Cursor-based (RFC 8288 `rel="next"`), so page 10,000 costs what page 1 does.
`?limit=` defaults to 100, at most 1000.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class LinkHeaderCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
    ordering = "id"
    cursor_query_param = "cursor"

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
