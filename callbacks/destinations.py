"""Which destination URLs a registration may name (SPEC section 6, SSRF guard).

Checked at registration; the HTTP wrapper (callbacks.http) checks again when the socket
opens, after DNS, so a name that later rebinds to a private address still fails.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES

from vibesweb.errors import DomainError

MAX_URL_LENGTH = 1024
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
    """Validate a destination URL and return it; raises InvalidDestination.

    Only http/https with a host and no credentials in the URL. Unless
    CALLBACK_ALLOW_PRIVATE_DESTINATIONS is on, a host resolving to any forbidden
    address is refused. A name that does not resolve yet is accepted: the connect-time
    check still guards it.
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
    if parts.username or parts.password:
        raise InvalidDestination("put credentials in basic_auth, not in destination.url")
    if not settings.CALLBACK_ALLOW_PRIVATE_DESTINATIONS:
        _refuse_private(parts.hostname, port)
    return url


def _refuse_private(host: str, port: int) -> None:
    for ip in resolved_addresses(host, port):
        if address_forbidden(ip):
            raise InvalidDestination(
                f"destination.url resolves to {ip}, a private, loopback, link-local or "
                "reserved address; callbacks only go to public addresses"
            )
