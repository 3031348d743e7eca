"""The platform's pass templates API (reference OpenAPI "iOS/Android Wallet Templates"):
`GET`/`POST` (201)/`PUT` `.../:token/passbook_template` and `.../:token/wallet_template`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import CompanyAPIView, json_object_body

from ..pass_templates import ENVELOPES, GOOGLE_WALLET, PASSBOOK
from ..services.campaigns import wallet_campaign_get
from ..services.templates import (
    template_payload,
    wallet_template_create,
    wallet_template_get,
    wallet_template_update,
)
from . import shapes


class WalletTemplateView(CompanyAPIView):
    """One campaign's template of `kind`; the answer is the template itself (no envelope),
    as the document's `iosTemplateResponse`/`androidTemplateResponse` write it."""

    query_parameters = ()
    kind = PASSBOOK

    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        return Response(template_payload(wallet_template_get(campaign=campaign, kind=self.kind)))

    def post(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        template = wallet_template_create(
            campaign=campaign, kind=self.kind, body=json_object_body(request)
        )
        response = Response(template_payload(template), status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{campaign.url}/{ENVELOPES[self.kind]}")
        return response

    def put(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        template = wallet_template_update(
            campaign=campaign, kind=self.kind, body=json_object_body(request)
        )
        return Response(template_payload(template))


def _schema(body, name: str):
    """The schema operations of a template view (drf-spectacular), named `name_*`."""
    return extend_schema_view(
        get=extend_schema(responses=shapes.TemplateOutput, operation_id=f"{name}_get"),
        post=extend_schema(
            request=body, responses={201: shapes.TemplateOutput}, operation_id=f"{name}_create"
        ),
        put=extend_schema(
            request=body, responses=shapes.TemplateOutput, operation_id=f"{name}_update"
        ),
    )


@_schema(shapes.PassbookTemplateBody, "wallet_passbook_template")
class PassbookTemplateView(WalletTemplateView):
    """The Apple Wallet template the campaign's .pkpass files are built from."""

    kind = PASSBOOK


@_schema(shapes.GoogleTemplateBody, "wallet_google_template")
class GoogleWalletTemplateView(WalletTemplateView):
    """The Google Wallet template the campaign's "Save to Google Wallet" objects are
    built from."""

    kind = GOOGLE_WALLET
