"""Wallet lists: our cursor `Link` header, and the platform's `page_size`, `page_token`
and `X-Next-Page-Token` (SPEC section 10)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from vibesweb.api.pagination import LinkHeaderCursorPagination


class RecentlyUpdatedPagination(LinkHeaderCursorPagination):
    ordering = ("-updated_at", "-id")


class NewestFirstPagination(LinkHeaderCursorPagination):
    """Newest first; `?page_size=` (or `?limit=`, at most 1000); the next page's token in
    `X-Next-Page-Token`, which `?page_token=` accepts (as the Link URL carries it)."""

    ordering = "-id"
    cursor_query_param = "page_token"

    def get_page_size(self, request):
        for name in ("page_size", "limit"):
            if name in request.query_params:
                self.page_size_query_param = name
                return super().get_page_size(request)
        return self.page_size

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        next_url = self.get_next_link()
        if next_url:
            token = parse_qs(urlsplit(next_url).query).get(self.cursor_query_param)
            if token:
                response["X-Next-Page-Token"] = token[0]
        return response
