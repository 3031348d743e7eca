"""HTTP Basic auth that verifies a password once, then trusts it briefly.

Django's password hashers cost hundreds of milliseconds by design; running one on every
API request would cap the API at a few requests per second per core. A verified
credential is remembered under an HMAC of username and password (never the password
itself) for API_AUTH_CACHE_SECONDS, bound to the user's current password hash, which is
re-read on every request with one indexed query, so a password change or deactivation
takes effect on the very next request.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authentication import BasicAuthentication

from vibesweb.db import ModelRows

_USER_FIELDS = {"id", "username", "password", "is_active", "is_staff", "is_superuser"}


def _credential_fingerprint(username: str, password: str) -> str:
    message = f"{username}\x00{password}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"apiauth:{digest}"


_user_reader: ModelRows | None = None


def _current_user(user_id: int):
    """The user row as it is now: one raw indexed query (the ORM's query compilation
    would cost more than the query on this hot path)."""
    global _user_reader  # built on first use: the user model is known once apps are ready
    if _user_reader is None:
        _user_reader = ModelRows(get_user_model(), fields=_USER_FIELDS)
    return _user_reader.first("WHERE id = %s", [user_id])


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "vibesweb"

    def authenticate_credentials(self, userid, password, request=None):
        cache_key = _credential_fingerprint(userid, password)
        remembered = cache.get(cache_key)
        if remembered is not None:
            user_id, password_hash = remembered
            user = _current_user(user_id)
            if user is not None and user.is_active and user.password == password_hash:
                return (user, None)
            cache.delete(cache_key)
        user, auth = super().authenticate_credentials(userid, password, request)
        cache.set(cache_key, (user.pk, user.password), settings.API_AUTH_CACHE_SECONDS)
        return (user, auth)
