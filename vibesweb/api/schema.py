"""OpenAPI 3 schema plumbing (drf-spectacular): auth, the version header, one path each."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

API_VERSION_HEADER = OpenApiParameter(
    name="X-API-Version",
    type=OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    enum=[1, 2],
    required=False,
    description="1 (default): US MDNs as 10 digits, E.164 refused. 2: E.164 in and out.",
)


class PlatformAutoSchema(AutoSchema):
    """Every operation takes `X-API-Version`."""

    def get_override_parameters(self):
        return [API_VERSION_HEADER, *super().get_override_parameters()]


class CachedBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "vibesweb.api.authentication.CachedBasicAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


def drop_trailing_slash_duplicates(endpoints):
    """Every path answers with and without a trailing slash; document it once."""
    return [
        (path, path_regex, method, callback)
        for path, path_regex, method, callback in endpoints
        if path == "/" or not path.endswith("/")
    ]
