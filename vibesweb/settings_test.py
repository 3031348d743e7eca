"""Test settings: fast hashing, in-memory email, private callback destinations allowed."""

from __future__ import annotations

import atexit
import glob
import os
import re
import tempfile

os.environ.setdefault("CELERY_BROKER_URL", "memory://")


def _own_redis_database(url: str, worker: int) -> str:
    """Under pytest-xdist each worker flushes its cache between tests and runs Celery
    workers on its broker: give worker N databases of its own on a shared Redis."""
    match = re.fullmatch(r"(rediss?://[^/]*)/(\d+)", url)
    if not match:
        return url
    return f"{match[1]}/{(int(match[2]) + 2 * (worker + 1)) % 16}"


def _remove_files_starting_with(prefix: str) -> None:
    for path in glob.glob(glob.escape(prefix) + "*"):
        os.remove(path)


# Set in the environment, not only in settings, so the child processes a test starts
# (Celery workers, bin/run) use the same worker's databases.
_xdist_worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
if _xdist_worker and not os.environ.get("VIBESWEB_XDIST_ISOLATED"):
    os.environ["VIBESWEB_XDIST_ISOLATED"] = "1"
    for _name in ("CACHE_URL", "CELERY_BROKER_URL"):
        if _name in os.environ:
            os.environ[_name] = _own_redis_database(os.environ[_name], int(_xdist_worker[1]))

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, REST_FRAMEWORK  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CALLBACK_ALLOW_PRIVATE_DESTINATIONS = True
API_RATE_LIMITS_ENABLED = False
DEBUG = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as the app runs on (WAL): a `.opt_outs` import looks chunks up on a thread's
    # connection while another writes, which SQLite's in-memory database shared between
    # connections refuses ("database table is locked"). One per process, so that no run
    # meets another's leftover write-ahead log; the mutation check names its own.
    _named = os.environ.get("VIBESWEB_TEST_SQLITE_FILE")
    _own = os.path.join(tempfile.gettempdir(), f"vibesweb-test-{os.getpid()}.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": _named or _own}
    if not _named:
        # Django's teardown removes the database file but leaves its -wal and -shm (the
        # test threads' connections still had it open): this process's own, at its exit.
        atexit.register(_remove_files_starting_with, _own)
else:
    # Threads of live-server tests must not keep sessions open past a test, or the
    # test database cannot be dropped at the end of the run.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
REST_FRAMEWORK = {**REST_FRAMEWORK}
