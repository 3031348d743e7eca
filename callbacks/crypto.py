"""Secrets at rest: destination credentials and signing secrets, Fernet-encrypted.

The key is derived from SECRET_KEY, so rotating SECRET_KEY makes stored secrets
unreadable (registrations must then be re-created); say so in the README.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets

from cryptography.fernet import Fernet
from django.conf import settings


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"vibesweb.callbacks:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_json(value: dict) -> str:
    """Encrypt a JSON-able dict into an opaque text token."""
    return _fernet(settings.SECRET_KEY).encrypt(json.dumps(value).encode()).decode()


@functools.lru_cache(maxsize=1024)
def _decrypt_cached(secret_key: str, token: str) -> str:
    return _fernet(secret_key).decrypt(token.encode()).decode()


def decrypt_json(token: str) -> dict:
    """Decrypt a token made by `encrypt_json` (cached: workers read it per delivery)."""
    if not token:
        return {}
    return json.loads(_decrypt_cached(settings.SECRET_KEY, token))


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
