"""HTTP Basic auth that verifies a password once, then trusts it briefly.

Django's password hashers cost hundreds of milliseconds by design; running one on every
API request would cap the API at a few requests per second per core. A verified
credential is remembered under an HMAC of username and password (never the password
itself) for API_AUTH_CACHE_SECONDS, bound to the user's id, username and password hash,
which are re-read on every request with one indexed query, so a rename, a password change
or a deactivation takes effect on the very next request.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from rest_framework import exceptions
from rest_framework.authentication import BasicAuthentication

from vibesweb.login_throttle import LOCKED_FOR

_USER_FIELDS = {"id", "username", "password", "is_active", "is_staff", "is_superuser"}


def _credential_fingerprint(username: str, password: str) -> str:
    message = f"{username}\x00{password}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return f"apiauth:{digest}"


def _current_user(user_id: int):
    """The user row as it is now, built with Model.from_db (one raw indexed query, as the
    ORM's query compilation would cost more than the query on this hot path)."""
    user_model = get_user_model()
    table = connection.ops.quote_name(user_model._meta.db_table)
    # from_db takes values in the model's field order; the rest stay deferred.
    names = [f.attname for f in user_model._meta.concrete_fields if f.attname in _USER_FIELDS]
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [user_id])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    return user_model.from_db(connection.alias, names, row)


class CachedBasicAuthentication(BasicAuthentication):
    www_authenticate_realm = "vibesweb"

    def authenticate_credentials(self, userid, password, request=None):
        cache_key = _credential_fingerprint(userid, password)
        remembered = cache.get(cache_key)
        if remembered is not None:
            user_id, password_hash = remembered
            user = _current_user(user_id)
            # Bound to the user's current username and password hash: a rename or a
            # password change ends the entry at once (a renamed user's old name, even
            # taken by someone else since, no longer opens this account).
            if (
                user is not None
                and user.is_active
                and user.get_username() == userid
                and user.password == password_hash
            ):
                return (user, None)
            cache.delete(cache_key)
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
