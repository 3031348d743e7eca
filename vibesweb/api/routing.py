"""Every API path answers with and without a trailing slash (SPEC section 3)."""

from __future__ import annotations

from django.urls import URLPattern, path


def api_path(route: str, view, name: str) -> list[URLPattern]:
    route = route.rstrip("/")
    if not route:
        return [path("", view, name=name)]
    return [path(route, view, name=name), path(route + "/", view)]
