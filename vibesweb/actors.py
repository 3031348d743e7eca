"""Who is acting: the request (API or admin) or the job a change happens in.

The consent ledger (SPEC section 13) must say, for every opt-in and opt-out, through which
channel it came and from whom. Passing that through every service signature would let a
new path forget it; instead the edge says it once: `ActingRequestMiddleware` records the
current request, and jobs that act for someone else (an inbound keyword, an import, a bulk
action, a web form) wrap their work in `acting_as(...)`. The ledger asks `current_actor()`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse


class Actor(NamedTuple):
    """The channel a change came through, its source in words, and the text involved (a
    tuple: an import makes one per row, and a frozen dataclass costs four times as much)."""

    channel: str
    source: str = ""
    text: str = ""


_request: ContextVar[HttpRequest | None] = ContextVar("acting_request", default=None)
_actor: ContextVar[Actor | None] = ContextVar("acting_actor", default=None)

# Changes made with neither a request nor a job saying who acts (a management command,
# a shell): recorded as made by the operator through the admin side.
SYSTEM_ACTOR = Actor(channel="admin", source="system (command line or scheduled job)")


class ActingRequestMiddleware:
    """Remembers the current request so that `current_actor()` can describe it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


@contextlib.contextmanager
def acting_as(channel: str, source: str = "", text: str = "") -> Iterator[Actor]:
    """Attribute the changes made inside the block to `channel`/`source`/`text`."""
    actor = Actor(channel=channel, source=source, text=text)
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def current_actor() -> Actor:
    """The innermost `acting_as`, else the current request, else SYSTEM_ACTOR."""
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    if request is None:
        return SYSTEM_ACTOR
    return _request_actor(request)


def with_text(actor: Actor, text: str) -> Actor:
    return actor._replace(text=text)


def _request_actor(request: HttpRequest) -> Actor:
    # DRF sets the authenticated user on the underlying request too, so this sees API
    # users as well as admin sessions.
    user = getattr(request, "user", None)
    username = getattr(user, "username", "") or "anonymous"
    channel = "admin" if request.path.startswith("/admin/") else "api"
    address = request.META.get("REMOTE_ADDR", "")
    agent = request.META.get("HTTP_USER_AGENT", "")[:200]
    source = f"{channel} user {username} from {address}"
    if agent:
        source += f" ({agent})"
    return Actor(channel=channel, source=source)
