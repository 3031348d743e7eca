"""Middleware that only browser pages need, skipped on the API's paths."""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware

# The platform API: /heartbeat and everything under /companies/ (vibesweb.urls).
API_PREFIXES = ("/companies/", "/companies", "/heartbeat")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class PageMessageMiddleware(MessageMiddleware):
    """Django's messages (the admin's "saved" notes) for pages only: setting up the
    cookie and session message stores cost every API request ~5% of a GET person, and
    no API view reads or writes messages."""

    def process_request(self, request):
        if not is_api_path(request.path_info):
            super().process_request(request)
