"""Base views: company scoping, the X-API-Version response header, and the root resources."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from vibesweb.api.fast_input import fast_validate
from vibesweb.api.permissions import RouteRow
from vibesweb.errors import DomainError, ErrorCode
from vibesweb.tenancy.models import Company
from vibesweb.tenancy.services import companies_for_user


class InvalidQueryParameter(DomainError):
    code = ErrorCode.INVALID_QUERY_PARAMETER
    error_class = "InvalidQueryParameter"
    default_message = "Invalid query parameter"


# What every paginated list takes (vibesweb.api.pagination).
PAGINATION_PARAMETERS = ("limit", "cursor")


class VersionedAPIView(APIView):
    """Adds `X-API-Version` to every response, errors included, and refuses a query
    parameter the view does not take (an ignored filter would silently answer everyone)."""

    rate_class = "other"
    # The query parameters the view takes; None leaves them unchecked (a view not yet
    # brought under the rule: tests/vibesweb/test_conventions.py lists which may be).
    query_parameters: tuple[str, ...] | None = None

    def query_parameter_allowed(self, name: str) -> bool:
        return name in (self.query_parameters or ())

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if self.query_parameters is None:
            return
        unknown = [name for name in request.query_params if not self.query_parameter_allowed(name)]
        if unknown:
            names = ", ".join(sorted(name[:64] for name in unknown))
            raise InvalidQueryParameter(f"Unknown query parameter(s): {names}")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-API-Version"] = str(getattr(request, "version", None) or 1)
        data = getattr(response, "data", None)
        if response.status_code == 201 and "Location" not in response:
            # RFC 9110: a 201 names the resource it created; ours carry it as `url`
            url = data.get("url") if isinstance(data, dict) else None
            if url:
                response["Location"] = request.build_absolute_uri(url)
        return response

    def paginated_response(self, queryset, render) -> Response:
        """A plain JSON array of one page, `render(page)`, with the next page in `Link`."""
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(render(page))


class CompanyAPIView(VersionedAPIView):
    """A view under /companies/:company_key: `request.company` is set and checked."""

    rate_class = "company"

    @property
    def company(self) -> Company:
        return self.request.company

    def route_row(self) -> RouteRow | None:
        """The row this request reads by its URL, for the authentication to read with the
        membership (one round trip instead of two); None: the view reads its rows itself.
        Only for a row the handler would read unlocked, outside its transaction: a write
        that locks its row re-reads it in its own transaction."""
        return None

    def route_row_read(self) -> tuple[bool, Any]:
        """(True, the row or None when the company has no such row) if the authentication
        read this request's `route_row()` for its user, else (False, None): read it
        yourself."""
        read = getattr(self.request._request, "route_row_read", None)
        if read is None or read[1] != self.request.user.pk or read[0] != self.route_row():
            return False, None
        return True, read[2]


def company_json(company: Company) -> dict:
    return {
        "company_key": company.key,
        "name": company.name,
        "url": company.url,
        "mobiledb_url": f"{company.url}/mobiledb",
        "campaigns_url": f"{company.url}/campaigns",
        "config_url": f"{company.url}/config",
        "incentives_url": f"{company.url}/incentives",
    }


class CompanyOutputSerializer(serializers.Serializer):
    company_key = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    mobiledb_url = serializers.CharField()
    campaigns_url = serializers.CharField()
    config_url = serializers.CharField()
    incentives_url = serializers.CharField()


@extend_schema_view(get=extend_schema(responses=OpenApiTypes.OBJECT))
class IndexView(CompanyAPIView):
    """A resource that links its children as `<name>_url` (`/companies/:key/mobiledb`,
    `/campaigns`, `/config`, `/incentives`), each child a named route; a child whose
    feature is not installed is left out rather than linked to a 404."""

    query_parameters = ()
    children: dict[str, str] = {}

    def get(self, request, company_key: str):
        links = {}
        for key, route_name in self.children.items():
            try:
                links[key] = reverse(route_name, kwargs={"company_key": self.company.key})
            except NoReverseMatch:
                continue
        return Response(links)


class HeartbeatSerializer(serializers.Serializer):
    status = serializers.CharField()


@extend_schema_view(get=extend_schema(responses=HeartbeatSerializer, auth=[]))
class HeartbeatView(VersionedAPIView):
    """`/heartbeat`: answers without touching tenant data (or any auth)."""

    query_parameters = ()

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request, company_key: str | None = None):
        return Response({"status": "ok"})


@extend_schema_view(get=extend_schema(responses=HeartbeatSerializer))
class CompanyHeartbeatView(CompanyAPIView):
    query_parameters = ()

    def get(self, request, company_key: str):
        return Response({"status": "ok", "company_key": self.company.key})


@extend_schema_view(get=extend_schema(responses=CompanyOutputSerializer(many=True)))
class CompanyListView(VersionedAPIView):
    query_parameters = ()

    def get(self, request):
        return Response([company_json(c) for c in companies_for_user(request.user)])


@extend_schema_view(get=extend_schema(responses=CompanyOutputSerializer))
class CompanyDetailView(CompanyAPIView):
    query_parameters = ()

    def get(self, request, company_key: str):
        return Response(company_json(self.company))


class BodyNotObject(DomainError):
    code = ErrorCode.BODY_NOT_OBJECT
    error_class = "BodyNotObject"
    default_message = "The request body must be a JSON object"


def json_object_body(request) -> dict:
    """The parsed body, which must be a JSON object (not an array, string or number)."""
    body = request.data
    if not isinstance(body, dict):
        raise BodyNotObject()
    return body


def validated(serializer_class, request, **kwargs) -> dict:
    """Validate the request body with a shape-only serializer; 400 lists every problem.

    A body the compiled plan accepts skips the serializer (same result, vibesweb.api
    .fast_input); any other body, and every error, goes through the serializer."""
    body = json_object_body(request)
    if not kwargs:
        fast = fast_validate(serializer_class, body)
        if fast is not None:
            return fast
    serializer = serializer_class(data=body, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
