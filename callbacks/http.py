"""The one outbound HTTP call point for callbacks.

It sets the timeout, never follows redirects, speaks only http/https, refuses private
addresses when the socket opens (requests-hardened resolves the name, checks the
address and pins the connection to it, so DNS rebinding fails) unless
CALLBACK_ALLOW_PRIVATE_DESTINATIONS is on, and classifies the outcome the way
seeds/003 does: 2XX delivered; 4XX permanent except 408/429; the rest retried.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.utils import timezone
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress

from vibesweb.inputs import storable_text

EXCERPT_BYTES = 1024
# A body larger than this is not read to the end (the connection is dropped instead).
MAX_DRAIN_BYTES = 64 * 1024
DELIVERED, PERMANENT, TRANSIENT = "delivered", "permanent", "transient"
# Our own fault while preparing or classifying one delivery (a body that cannot be
# encoded, a bad header, a bug): retried like a transient failure, but it says nothing
# about the destination, so it never counts against the registration's health.
FAULT = "fault"
USER_AGENT = "vibesweb-callbacks/1"

_local = threading.local()


@dataclass
class Outcome:
    """What one attempt came to: `kind` is delivered, permanent or transient."""

    kind: str
    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str = ""
    error: str = ""
    retry_after: float | None = None


def _session() -> requests.Session:
    """A pooled session per thread (keep-alive per destination), rebuilt if settings change."""
    allow_private = bool(settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS)
    cached = getattr(_local, "session", None)
    if cached is None or cached[0] != allow_private:
        config = Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(10, 10),
            user_agent_override=USER_AGENT,
        )
        session = HTTPSession(config)
        session.trust_env = False  # no proxies from the environment
        cached = (allow_private, session)
        _local.session = cached
    return cached[1]


def send(*, method: str, url: str, body: bytes, headers: dict, auth=None) -> Outcome:
    """Send one callback request and classify the answer; never raises.

    Network faults are transient or permanent as seeds/003 says; anything else (an answer
    we fail to read or classify, a header the client refuses) is a FAULT outcome of this
    delivery alone.
    """
    started = time.perf_counter()
    try:
        return _send(method=method, url=url, body=body, headers=headers, auth=auth)
    except Exception as exc:  # noqa: BLE001 - one delivery's fault must not escape to its batch
        return fault_outcome(exc, started)


def fault_outcome(exc: BaseException, started: float | None = None) -> Outcome:
    """An unexpected error of one delivery as its failed attempt (kind FAULT)."""
    error = f"internal error: {type(exc).__name__}: {exc}"
    return _fault(FAULT, error, started if started is not None else time.perf_counter())


def _send(*, method: str, url: str, body: bytes, headers: dict, auth=None) -> Outcome:
    timeout = float(settings.CALLBACK_TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        prepared = requests.Request(method, url, data=body, headers=headers, auth=auth).prepare()
        prepared.headers.setdefault("User-Agent", USER_AGENT)
        # Straight to the hardened adapter: it checks the address and pins the connection,
        # and an adapter never follows redirects; the Session layer (cookies, hooks,
        # environment proxies) is skipped, which halves the cost of a call.
        adapter = _session().get_adapter(url)
        response = adapter.send(prepared, stream=True, timeout=(timeout, timeout))
        excerpt = _read_excerpt(response)
    except InvalidIPAddress as exc:
        return _fault(PERMANENT, f"refused: destination resolves to private address {exc}", started)
    except (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
    ) as exc:
        return _fault(PERMANENT, f"invalid destination: {exc}", started)
    except requests.exceptions.Timeout:
        return _fault(TRANSIENT, f"timeout after {timeout:g} s", started)
    except requests.exceptions.RequestException as exc:
        return _fault(TRANSIENT, f"connection error: {type(exc).__name__}: {exc}", started)
    return _classify(response, excerpt, _elapsed_ms(started))


def _classify(response: requests.Response, excerpt: str, duration_ms: int) -> Outcome:
    code = response.status_code
    outcome = Outcome(TRANSIENT, status_code=code, duration_ms=duration_ms, excerpt=excerpt)
    if 200 <= code < 300:
        outcome.kind = DELIVERED
    elif code in (408, 429):
        outcome.retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        outcome.error = f"HTTP {code}"
    elif 400 <= code < 500:
        outcome.kind = PERMANENT
        outcome.error = f"HTTP {code}"
    else:
        location = response.headers.get("Location", "")
        outcome.error = f"HTTP {code}" + (
            f" (redirect to {location[:200]} not followed)" if 300 <= code < 400 else ""
        )
    return outcome


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only: str.isdigit() is also true for "²" or "١", which float() refuses.
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def _read_excerpt(response: requests.Response) -> str:
    """The first EXCERPT_BYTES of the body; small bodies are drained so keep-alive holds."""
    kept = bytearray()
    total = 0
    try:
        for chunk in response.iter_content(8192):
            total += len(chunk)
            if len(kept) < EXCERPT_BYTES:
                kept += chunk[: EXCERPT_BYTES - len(kept)]
            if total > MAX_DRAIN_BYTES:
                break
    finally:
        response.close()
    return storable_text(kept.decode("utf-8", "replace"))


def _fault(kind: str, error: str, started: float) -> Outcome:
    return Outcome(kind, error=storable_text(error)[:500], duration_ms=_elapsed_ms(started))


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
