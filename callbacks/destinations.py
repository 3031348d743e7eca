"""Which destination URLs a registration may name (SPEC section 6, SSRF guard).

Checked at registration; the HTTP wrapper (callbacks.http) checks again when the socket
opens, after DNS, so a name that later rebinds to a private address still fails.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES

from vibesweb.errors import DomainError

MAX_URL_LENGTH = 1024
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class InvalidDestination(DomainError):
    error_class = "InvalidDestination"
    default_message = "destination.url must be an http or https URL"


def address_forbidden(ip: IPAddress) -> bool:
    """True for loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved,
    unspecified and translation ranges, IPv4-mapped IPv6 judged by its IPv4 address."""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return True
    return any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)


def resolved_addresses(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to now (a literal resolves to itself); [] if none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def destination_check(url: str) -> str:
    """Validate a destination URL and return it, its host normalised; InvalidDestination.

    Only http/https with a host and no credentials in the URL. The host is checked as it
    will be connected to: percent-encoding decoded (`127%2E0%2E0%2E1` is 127.0.0.1),
    lower-cased, IDNA-encoded, and written back that way into the URL that is stored. A
    host that does not resolve is refused (it could resolve anywhere later), and unless
    CALLBACK_ALLOW_PRIVATE_DESTINATIONS is on, one resolving to any forbidden address.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidDestination("destination.url is required")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidDestination(f"destination.url is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidDestination(f"destination.url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidDestination("destination.url must be an http or https URL with a host")
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidDestination("put credentials in basic_auth, not in destination.url")
    host = _normalised_host(parts.hostname)
    if host != parts.hostname:
        shown = f"[{host}]" if ":" in host else host
        netloc = f"{shown}:{parts.port}" if parts.port else shown
        url = urlunsplit(parts._replace(netloc=netloc))
    addresses = resolved_addresses(host, port)
    if not addresses:
        raise InvalidDestination(f"destination.url: the host '{host[:100]}' does not resolve")
    if not settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS:
        _refuse_private(addresses)
    return url


def _normalised_host(hostname: str) -> str:
    host = unquote(hostname).strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidDestination("destination.url has an invalid host name") from None
    if not _HOST_NAME.fullmatch(ascii_host):
        raise InvalidDestination("destination.url has an invalid host name")
    return ascii_host


def _refuse_private(addresses: list[IPAddress]) -> None:
    for ip in addresses:
        if address_forbidden(ip):
            raise InvalidDestination(
                f"destination.url resolves to {ip}, a private, loopback, link-local or "
                "reserved address; callbacks only go to public addresses"
            )
