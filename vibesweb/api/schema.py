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


# The query parameters our views take (VersionedAPIView.query_parameters), typed; any
# other declared name is documented as a string.
QUERY_PARAMETERS = {
    "limit": OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        description="Items per page, 1 to 1000 (default 100).",
    ),
    "cursor": OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description='The next page: the cursor of the Link header\'s rel="next" URL.',
    ),
    "mdn": OpenApiParameter("mdn", OpenApiTypes.STR, description="An MDN in any common format."),
    "external_person_id": OpenApiParameter("external_person_id", OpenApiTypes.STR),
    "person_key": OpenApiParameter("person_key", OpenApiTypes.UUID),
    "person_id": OpenApiParameter(
        "person_id", OpenApiTypes.STR, description="A person_id or person_key."
    ),
    "updated_since": OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="Persons updated at or after this ISO 8601 date.",
    ),
    "active_only": OpenApiParameter("active_only", OpenApiTypes.BOOL),
}


class PlatformAutoSchema(AutoSchema):
    """Every operation takes `X-API-Version`; a `GET` documents the query parameters its
    view takes (`query_parameters`), so a generated client can search and page."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        operation_id = (operation or {}).get("operationId", "")
        # one view serves a person by id and by external id: two operations, two ids
        if "{external_person_id}" in path and "external" not in operation_id:
            operation["operationId"] = f"{operation_id}_by_external_id"
        return operation

    def get_override_parameters(self):
        parameters = [API_VERSION_HEADER, *super().get_override_parameters()]
        if self.method != "GET":
            return parameters
        documented = {p.name for p in parameters if isinstance(p, OpenApiParameter)}
        for name in getattr(self.view, "query_parameters", None) or ():
            if name not in documented:
                parameters.append(QUERY_PARAMETERS.get(name) or OpenApiParameter(name, str))
        return parameters


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
