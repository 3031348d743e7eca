"""Content negotiation that answers the common case without parsing anything."""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class FastContentNegotiation(DefaultContentNegotiation):
    """No `Accept`, `*/*` or exactly the first renderer's type (what integrators send)
    picks the first renderer straight away, as DRF would; anything else is DRF's
    negotiation (and its 406)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT")
        first = renderers[0]
        if (
            not format_suffix
            and accept in (None, "*/*", first.media_type)
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
