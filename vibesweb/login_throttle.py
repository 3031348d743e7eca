"""Brute-force protection for every password check: API Basic auth and the admin login.

Both go through Django's `authenticate()`, so one authentication backend guards both.
Failed checks are counted in the shared cache (CACHE_URL), in fixed windows of
LOGIN_FAILURE_WINDOW_SECONDS, per (username, client address) and, with a looser
limit, per client address. Past either limit the password is not even checked until the
window ends: the API answers 429 with `Retry-After`, the admin login says so.

There is deliberately no limit per username alone: an attacker elsewhere could then lock
a real integrator out. An integrator whose credential is already verified (the API's
credential cache) is never refused by someone else's failures from the same address.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.throttling import BaseThrottle

# Set on the request when a check was refused unchecked: seconds until it may be retried.
LOCKED_FOR = "login_locked_for"


def client_address(request) -> str:
    """The client's address as DRF's throttles see it (REST_FRAMEWORK NUM_PROXIES)."""
    return BaseThrottle().get_ident(request) or "unknown"


def _counters(username: str, address: str, now: float) -> list[tuple[str, int, float]]:
    """(cache key, limit, window end) of each counter this attempt counts against."""
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    index = int(now // window)
    end = (index + 1) * window
    name = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
    return [
        (
            f"loginfail:ua:{name}:{address}:{index}",
            settings.LOGIN_FAILURES_PER_USERNAME_ADDRESS,
            end,
        ),
        (f"loginfail:a:{address}:{index}", settings.LOGIN_FAILURES_PER_ADDRESS, end),
    ]


def login_wait_seconds(request, username: str) -> int:
    """Seconds until `username` may try a password again from this client (0: now)."""
    now = time.time()
    counters = _counters(username, client_address(request), now)
    counts = cache.get_many([key for key, _, _ in counters])
    waits = [end - now for key, limit, end in counters if counts.get(key, 0) >= limit]
    return max(1, math.ceil(max(waits))) if waits else 0


def login_failure_record(request, username: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _, _ in _counters(username, client_address(request), time.time()):
        if cache.add(key, 1, timeout=window + 5):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window + 5)


def login_success_record(request, username: str) -> None:
    """A right password clears its (username, address) count, not the address's."""
    key = _counters(username, client_address(request), time.time())[0][0]
    cache.delete(key)


class ThrottledModelBackend(ModelBackend):
    """ModelBackend that refuses, unchecked, a username+address or an address past its
    failure limit (raising PermissionDenied stops `authenticate()` at once)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return super().authenticate(request, username, password, **kwargs)
        wait = login_wait_seconds(request, username)
        if wait:
            setattr(request, LOCKED_FOR, wait)
            raise PermissionDenied("too many failed logins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            login_failure_record(request, username)
        else:
            login_success_record(request, username)
        return user


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login, saying so when the password was not checked (locked out)."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            wait = getattr(self.request, LOCKED_FOR, 0)
            if wait:
                minutes = math.ceil(wait / 60)
                raise ValidationError(
                    f"Too many failed logins from your address: try again in {minutes} minute(s).",
                    code="locked_out",
                ) from None
            raise
