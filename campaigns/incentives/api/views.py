"""Incentive pools, codes, issuances and redemptions under /companies/:key/incentives
(thin views over the incentives services; shapes in ..payloads)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from vibesweb.api.views import CompanyAPIView, json_object_body
from vibesweb.errors import DomainError, ErrorCode

from ..loading import incentive_codes_load
from ..payloads import (
    code_list_payload,
    code_payload,
    issuance_payload,
    pool_payload,
    redemption_payload,
)
from ..pools import POOL_FIELDS, incentive_pool_create, incentive_pool_update
from ..selectors import (
    code_counts,
    incentive_code_get,
    incentive_codes_of,
    incentive_pool_get,
    incentive_pool_route_row,
    incentive_pools_of,
    issuances_of_code,
    pool_counts,
    pool_counts_many,
    redemptions_of_code,
)
from ..services import MAX_ID_LENGTH, incentive_issue, incentive_redeem, issuee_resolve


class BodyInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "IncentiveErrors::InvalidBody"


def _pool_changes(body: dict) -> dict:
    """The pool fields present in a platform body (nested `incentive_codes` and
    `distribution`), flattened for the service, which checks their values."""
    changes = {name: body[name] for name in POOL_FIELDS if name in body}
    nested = body.get("incentive_codes")
    if nested is not None:
        if not isinstance(nested, dict):
            raise BodyInvalid("incentive_codes must be an object")
        for name in ("low_threshold", "max_characters"):
            if name in nested:
                changes[name] = nested[name]
    if "distribution" in body:
        distribution = body["distribution"]
        if isinstance(distribution, dict):
            if "method" not in distribution:
                raise BodyInvalid("distribution.method is required (unique or multi)")
            distribution = distribution["method"]
        changes["distribution"] = distribution
    return changes


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BodyInvalid(f"{name} must be a string")
    text = str(value).strip()
    if len(text) > MAX_ID_LENGTH:
        error = BodyInvalid(f"{name} is longer than {MAX_ID_LENGTH} characters")
        error.code = ErrorCode.VALUE_TOO_LONG
        raise error
    return text


class PoolOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    issuance_allowed = serializers.BooleanField()
    redemption_allowed = serializers.BooleanField()
    incentive_codes = serializers.DictField()
    distribution = serializers.DictField()
    notification_email_address = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()
    url = serializers.CharField()


class IssuanceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_issuee_id = serializers.CharField(allow_null=True)
    issuee_id = serializers.CharField(allow_null=True)
    referring_application = serializers.CharField(allow_null=True)
    referring_application_ref_id = serializers.CharField(allow_null=True)
    incentive_code = serializers.DictField()
    incentive_pool = serializers.DictField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField()


class IssuanceInputSerializer(serializers.Serializer):
    issuee_id = serializers.CharField(required=False)
    external_issuee_id = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    referring_application = serializers.CharField(required=False)
    referring_application_ref_id = serializers.CharField(required=False)


class PoolListView(CompanyAPIView):
    @extend_schema(responses=PoolOutputSerializer(many=True), operation_id="incentive_pools_list")
    def get(self, request, company_key: str):
        def render(page):
            counts = pool_counts_many(page)
            return [pool_payload(p, counts[p.pk], company_key=self.company.key) for p in page]

        return self.paginated_response(incentive_pools_of(self.company), render)

    @extend_schema(responses=PoolOutputSerializer, operation_id="incentive_pool_create")
    def post(self, request, company_key: str):
        changes = _pool_changes(json_object_body(request))
        pool = incentive_pool_create(company=self.company, **changes)
        return Response(pool_payload(pool, pool_counts(pool), company_key=self.company.key))


class PoolDetailView(CompanyAPIView):
    @extend_schema(responses=PoolOutputSerializer, operation_id="incentive_pool_get")
    def get(self, request, company_key: str, pool_id: str):
        pool = incentive_pool_get(company=self.company, pool_id=pool_id)
        return Response(pool_payload(pool, pool_counts(pool), company_key=self.company.key))

    @extend_schema(responses=PoolOutputSerializer, operation_id="incentive_pool_update")
    def put(self, request, company_key: str, pool_id: str):
        pool = incentive_pool_get(company=self.company, pool_id=pool_id)
        changes = _pool_changes(json_object_body(request))
        pool = incentive_pool_update(pool=pool, **changes)
        return Response(pool_payload(pool, pool_counts(pool), company_key=self.company.key))


class PoolCodesView(CompanyAPIView):
    """`POST .../pools/:id/codes {"codes": [...]}`: adds codes; answers the counts and
    every refused code with its position in the list and the reason."""

    @extend_schema(responses=serializers.DictField(), operation_id="incentive_codes_add")
    def post(self, request, company_key: str, pool_id: str):
        pool = incentive_pool_get(company=self.company, pool_id=pool_id)
        codes = json_object_body(request).get("codes")
        if not isinstance(codes, list):
            error = BodyInvalid('codes must be a list of strings, e.g. {"codes": ["A1", "B2"]}')
            error.code = ErrorCode.FIELD_REQUIRED if codes is None else ErrorCode.INVALID_VALUE
            raise error
        result = incentive_codes_load(pool=pool, codes=codes)
        answer = result.as_json()
        answer["incentive_codes"] = pool_payload(
            pool, pool_counts(pool), company_key=self.company.key
        )["incentive_codes"]
        return Response(answer)


class PoolIssuancesView(CompanyAPIView):
    def route_row(self):
        # An issuance reads its pool unlocked, before its transaction (what races is the
        # take of a code): the authentication's read of it is that same read.
        return incentive_pool_route_row(self.kwargs.get("pool_id"))

    @extend_schema(
        request=IssuanceInputSerializer,
        responses=IssuanceOutputSerializer,
        operation_id="incentive_code_issue",
    )
    def post(self, request, company_key: str, pool_id: str):
        pool = incentive_pool_get(company=self.company, pool_id=pool_id, read=self.route_row_read())
        body = json_object_body(request)
        issuee = issuee_resolve(
            company=self.company,
            issuee_id=body.get("issuee_id"),
            external_issuee_id=body.get("external_issuee_id"),
        )
        code = _text(body, "code")
        issuance, _created = incentive_issue(
            pool=pool,
            issuee=issuee,
            code=code or None,
            referring_application=_text(body, "referring_application") or "",
            referring_application_ref_id=_text(body, "referring_application_ref_id") or "",
        )
        return Response(issuance_payload(issuance, company_key=self.company.key))


class CodeListView(CompanyAPIView):
    """`GET .../incentives/codes[?pool_id=]`: the company's codes, in load order."""

    @extend_schema(responses=serializers.DictField(), operation_id="incentive_codes_list")
    def get(self, request, company_key: str):
        pool = None
        if request.query_params.get("pool_id"):
            pool_id = request.query_params["pool_id"]
            pool = incentive_pool_get(company=self.company, pool_id=pool_id)
        return self.paginated_response(
            incentive_codes_of(self.company, pool=pool),
            lambda page: [code_list_payload(c, company_key=self.company.key) for c in page],
        )


class CodeDetailView(CompanyAPIView):
    @extend_schema(responses=serializers.DictField(), operation_id="incentive_code_get")
    def get(self, request, company_key: str, code: str):
        found = incentive_code_get(company=self.company, code=code)
        return Response(code_payload(found, code_counts(found), company_key=self.company.key))


class CodeIssuancesView(CompanyAPIView):
    @extend_schema(
        responses=IssuanceOutputSerializer(many=True), operation_id="incentive_code_issuances"
    )
    def get(self, request, company_key: str, code: str):
        found = incentive_code_get(company=self.company, code=code)

        def render(page):
            for issuance in page:
                issuance.code = found
            return [issuance_payload(i, company_key=self.company.key) for i in page]

        return self.paginated_response(issuances_of_code(found), render)


class CodeRedemptionsView(CompanyAPIView):
    @extend_schema(
        responses=IssuanceOutputSerializer(many=True), operation_id="incentive_code_redemptions"
    )
    def get(self, request, company_key: str, code: str):
        found = incentive_code_get(company=self.company, code=code)

        def render(page):
            for redemption in page:
                redemption.code = found
            return [redemption_payload(r, company_key=self.company.key) for r in page]

        return self.paginated_response(redemptions_of_code(found), render)

    @extend_schema(
        request=IssuanceInputSerializer,
        responses=IssuanceOutputSerializer,
        operation_id="incentive_code_redeem",
    )
    def post(self, request, company_key: str, code: str):
        body = json_object_body(request)
        incentive_code_get(company=self.company, code=code)  # 404 before the body's checks
        issuee = issuee_resolve(
            company=self.company,
            issuee_id=body.get("issuee_id"),
            external_issuee_id=body.get("external_issuee_id"),
        )
        redemption = incentive_redeem(
            company=self.company,
            code=code,
            issuee=issuee,
            referring_application=_text(body, "referring_application") or "",
            referring_application_ref_id=_text(body, "referring_application_ref_id") or "",
        )
        return Response(redemption_payload(redemption, company_key=self.company.key))
