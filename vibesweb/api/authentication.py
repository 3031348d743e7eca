"""HTTP Basic auth that verifies a password once, then trusts it briefly.

Django's password hashers cost hundreds of milliseconds by design; running one on every
API request would cap the API at a few requests per second per core. A verified
credential is remembered under an HMAC of username and password (never the password
itself) for API_AUTH_CACHE_SECONDS, bound to the user's current password hash so that a
password change or deactivation takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication


def _credential_fingerprint(username: str, password: str) -> str:
    message = f"{username}\x00{password}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"apiauth:{digest}"


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "vibesweb"

    def authenticate_credentials(self, userid, password, request=None):
        cache_key = _credential_fingerprint(userid, password)
        remembered = cache.get(cache_key)
        if remembered is not None:
            user_id, password_hash = remembered
            user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user is not None and user.password == password_hash:
                return (user, None)
            cache.delete(cache_key)
        user, auth = super().authenticate_credentials(userid, password, request)
        cache.set(cache_key, (user.pk, user.password), settings.API_AUTH_CACHE_SECONDS)
        return (user, auth)


def authentication_failed() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed("Invalid username or password")
