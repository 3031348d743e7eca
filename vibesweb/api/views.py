"""Base views: company scoping, the X-API-Version response header, and the root resources."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from vibesweb.api.fast_input import fast_validate
from vibesweb.errors import DomainError, ErrorCode
from vibesweb.tenancy.models import Company
from vibesweb.tenancy.services import companies_for_user


class VersionedAPIView(APIView):
    """Adds `X-API-Version` to every response, errors included."""

    rate_class = "other"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-API-Version"] = str(getattr(request, "version", None) or 1)
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


def company_json(company: Company) -> dict:
    return {
        "company_key": company.key,
        "name": company.name,
        "url": company.url,
        "mobiledb_url": f"{company.url}/mobiledb",
    }


class CompanyOutputSerializer(serializers.Serializer):
    company_key = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField()
    mobiledb_url = serializers.CharField()


class HeartbeatSerializer(serializers.Serializer):
    status = serializers.CharField()


@extend_schema_view(get=extend_schema(responses=HeartbeatSerializer, auth=[]))
class HeartbeatView(VersionedAPIView):
    """`/heartbeat`: answers without touching tenant data (or any auth)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request, company_key: str | None = None):
        return Response({"status": "ok"})


@extend_schema_view(get=extend_schema(responses=HeartbeatSerializer))
class CompanyHeartbeatView(CompanyAPIView):
    def get(self, request, company_key: str):
        return Response({"status": "ok", "company_key": self.company.key})


@extend_schema_view(get=extend_schema(responses=CompanyOutputSerializer(many=True)))
class CompanyListView(VersionedAPIView):
    def get(self, request):
        return Response([company_json(c) for c in companies_for_user(request.user)])


@extend_schema_view(get=extend_schema(responses=CompanyOutputSerializer))
class CompanyDetailView(CompanyAPIView):
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
