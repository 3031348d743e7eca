"""Test settings: fast hashing, in-memory email, private callback destinations allowed."""

from __future__ import annotations

import os

os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, REST_FRAMEWORK  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CALLBACK_ALLOW_PRIVATE_DESTINATIONS = True
API_RATE_LIMITS_ENABLED = False
DEBUG = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    # Threads of live-server tests must not keep sessions open past a test, or the
    # test database cannot be dropped at the end of the run.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
REST_FRAMEWORK = {**REST_FRAMEWORK}
