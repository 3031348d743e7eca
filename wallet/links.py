"""Absolute links: SmartLinks, pass downloads and Apple's webServiceURL (SPEC section 10:
the SITE_URL setting when set, otherwise the scheme and host of the request)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site_root(request: HttpRequest | None = None) -> str:
    """`https://host` without a trailing slash."""
    configured = getattr(settings, "SITE_URL", "") or ""
    if configured:
        return configured.rstrip("/")
    if request is None:
        return "http://localhost:8000"
    return f"{request.scheme}://{request.get_host()}"


def smartlink_url(campaign, root: str) -> str:
    return f"{root}/c/{campaign.wallet_id}"


def pkpass_url(item, root: str) -> str:
    return f"{root}/c/{item.campaign.wallet_id}/{item.uuid}.pkpass"


def image_url(campaign, name: str, root: str) -> str:
    return f"{root}/c/{campaign.wallet_id}/images/{name}.png"


def web_service_url(root: str) -> str:
    """Apple's webServiceURL: the PassKit web service lives under /passkit/v1/..."""
    return f"{root}/passkit/"
