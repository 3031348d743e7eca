"""HTTP Basic auth that verifies a password once, then trusts it briefly.

Django's password hashers cost hundreds of milliseconds by design; running one on every
API request would cap the API at a few requests per second per core. A verified
credential is remembered under an HMAC of username and password (never the password
itself) for API_AUTH_CACHE_SECONDS, bound to the user's current password hash, which is
re-read on every request with one indexed query, so a password change or deactivation
takes effect on the very next request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from vibesweb.api.permissions import user_with_member_company
from vibesweb.db import ModelRows
from vibesweb.login_throttle import LOCKED_FOR

_USER_FIELDS = {"id", "username", "password", "is_active", "is_staff", "is_superuser"}


def _credential_fingerprint(username: str, password: str) -> str:
    message = f"{username}\x00{password}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"apiauth:{digest}"


_user_reader: ModelRows | None = None


def _users() -> ModelRows:
    global _user_reader  # built on first use: the user model is known once apps are ready
    if _user_reader is None:
        _user_reader = ModelRows(get_user_model(), fields=_USER_FIELDS)
    return _user_reader


def _current_user(user_id: int):
    """The user row as it is now: one raw indexed query (the ORM's query compilation
    would cost more than the query on this hot path)."""
    return _users().first("WHERE id = %s", [user_id])


# Per process, in front of the shared cache: a keyed hash of the whole Authorization
# header -> (username, user id, password hash, until). A hit skips decoding the header,
# the credential's HMAC and the cache's round trip (pickling, or a Redis request), the
# bulk of authentication's own CPU on a GET person; the user row is still re-read.
_verified_headers: dict[bytes, tuple[str, int, str, float]] = {}
_VERIFIED_HEADERS_MAX = 10_000


@functools.cache
def _header_key(secret_key: str) -> bytes:
    return hashlib.sha256(f"vibesweb.api.authentication:{secret_key}".encode()).digest()


def _header_fingerprint(header: str) -> bytes:
    key = _header_key(settings.SECRET_KEY)
    return hashlib.blake2b(header.encode("utf-8", "surrogatepass"), key=key).digest()


def _still_valid(user, username: str, password_hash: str) -> bool:
    # Bound to the user's current username too: a rename ends the entry at once (a
    # renamed user's old name, even taken by someone else, opens nothing).
    return (
        user is not None
        and user.is_active
        and user.get_username() == username
        and user.password == password_hash
    )


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "vibesweb"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if not header or not isinstance(header, str):
            return super().authenticate(request)
        fingerprint = _header_fingerprint(header)
        known = _verified_headers.pop(fingerprint, None)
        if known is not None:
            username, user_id, password_hash, until = known
            if time.monotonic() < until:
                user = self._current_user_and_company(user_id, request)
                if _still_valid(user, username, password_hash):
                    _verified_headers[fingerprint] = known
                    return (user, None)
                self._forget_reads(request)
        found = super().authenticate(request)
        if found is not None:
            user = found[0]
            if len(_verified_headers) >= _VERIFIED_HEADERS_MAX:
                _verified_headers.clear()
            until = time.monotonic() + settings.API_AUTH_CACHE_SECONDS
            _verified_headers[fingerprint] = (user.get_username(), user.pk, user.password, until)
        return found

    @staticmethod
    def _forget_reads(request) -> None:
        """The reads made with a stale row are not the request's."""
        if request is not None:
            request._request.company_lookup = None
            request._request.route_row_read = None

    def authenticate_credentials(self, userid, password, request=None):
        cache_key = _credential_fingerprint(userid, password)
        remembered = cache.get(cache_key)
        if remembered is not None:
            user_id, password_hash = remembered
            user = self._current_user_and_company(user_id, request)
            if _still_valid(user, userid, password_hash):
                return (user, None)
            cache.delete(cache_key)
        self._forget_reads(request)
        try:
            user, auth = super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            wait = getattr(request, LOCKED_FOR, 0)
            if wait:  # refused unchecked: too many failures (vibesweb.login_throttle)
                raise exceptions.Throttled(
                    wait=wait, detail="Too many failed authentications; retry later"
                ) from None
            raise
        cache.set(cache_key, (user.pk, user.password), settings.API_AUTH_CACHE_SECONDS)
        return (user, auth)

    def _current_user_and_company(self, user_id: int, request):
        """The user row; on a company's URL, its membership in the same query, kept for
        CompanyMemberPermission (one query per request instead of two), and the row a
        read names in its URL if the view asks for it (`CompanyAPIView.route_row`)."""
        match = getattr(getattr(request, "_request", None), "resolver_match", None)
        key = match.kwargs.get("company_key") if match is not None else None
        if key is None:
            return _current_user(user_id)
        view = request.parser_context.get("view") if request.parser_context else None
        wanted = view.route_row() if hasattr(view, "route_row") else None
        user, company, row = user_with_member_company(
            get_user_model(), _users().names, user_id, key, wanted
        )
        if user is not None:
            request._request.company_lookup = (key, user.pk, company)
            if wanted is not None:
                request._request.route_row_read = (wanted, user.pk, row)
        return user
