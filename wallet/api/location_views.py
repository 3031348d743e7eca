"""The platform's store locations and location selector API (reference OpenAPI "Wallet
Store Locations" and "Wallet Location Selector"), under `.../campaigns/wallet/:token`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import CompanyAPIView, json_object_body

from ..links import site_root
from ..selectors import wallet_locations_page
from ..services.campaigns import wallet_campaign_get
from ..services.location_selector import (
    selector_payload,
    wallet_location_selector_create,
    wallet_location_selector_delete,
    wallet_location_selector_get,
    wallet_location_selector_update,
)
from ..services.locations import (
    location_payload,
    wallet_location_delete,
    wallet_locations_add,
    wallet_locations_delete_all,
)
from . import shapes


class WalletLocationListView(CompanyAPIView):
    """`GET` the campaign's stores in the order they were added: a plain array, 1-indexed
    `page` of `page_size` (100, at most 1000), exact `zip`/`latitude`/`longitude`
    filters; the total in `X-Total-Count`."""

    query_parameters = ("page", "page_size", "zip", "latitude", "longitude")

    @extend_schema(
        responses=shapes.StoreLocationOutput(many=True),
        operation_id="wallet_locations",
        parameters=[OpenApiParameter(name, str) for name in query_parameters],
    )
    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        stores, total = wallet_locations_page(campaign=campaign, params=request.query_params)
        response = Response([location_payload(store) for store in stores])
        response["X-Total-Count"] = str(total)
        return response


class WalletLocationBulkView(CompanyAPIView):
    """`POST` up to 1000 stores at once (201, the stores added); the `Idempotency-Key`
    header is required and makes a retry answer the first result."""

    query_parameters = ()

    @extend_schema(
        request=shapes.StoreLocationsBulk,
        responses={201: shapes.StoreLocationOutput(many=True)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, True)],
        operation_id="wallet_locations_bulk",
    )
    def post(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        added = wallet_locations_add(
            campaign=campaign,
            body=json_object_body(request),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        response = Response(added, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{campaign.url}/locations")
        return response


class WalletLocationDeleteAllView(CompanyAPIView):
    """`DELETE` every store of the campaign, or only those of `?zip=`; answers how many."""

    query_parameters = ("zip",)

    @extend_schema(
        responses=shapes.LocationsDeleted,
        parameters=[OpenApiParameter("zip", str)],
        operation_id="wallet_locations_delete_all",
    )
    def delete(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        deleted = wallet_locations_delete_all(
            campaign=campaign, zip_code=request.query_params.get("zip")
        )
        return Response({"deleted": deleted})


class WalletLocationDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses={204: None}, operation_id="wallet_location_delete")
    def delete(self, request, company_key: str, wallet_id: str, wallet_location_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        wallet_location_delete(campaign=campaign, location_id=wallet_location_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WalletLocationSelectorView(CompanyAPIView):
    """The campaign's branded "Add to Wallet" landing page: `GET`, `POST` (201), `PUT`,
    `DELETE` (204). Answers are the selector itself (no envelope), as the document's
    `locationSelectorResponse` writes it."""

    query_parameters = ()

    @extend_schema(responses=shapes.LocationSelectorOutput, operation_id="wallet_selector_get")
    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        selector = wallet_location_selector_get(campaign=campaign)
        return Response(selector_payload(selector, root=site_root(request)))

    @extend_schema(
        request=shapes.LocationSelectorBody,
        responses={201: shapes.LocationSelectorOutput},
        operation_id="wallet_selector_create",
    )
    def post(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        selector = wallet_location_selector_create(
            campaign=campaign, body=json_object_body(request)
        )
        response = Response(
            selector_payload(selector, root=site_root(request)), status=status.HTTP_201_CREATED
        )
        response["Location"] = request.build_absolute_uri(f"{campaign.url}/location_selector")
        return response

    @extend_schema(
        request=shapes.LocationSelectorBody,
        responses=shapes.LocationSelectorOutput,
        operation_id="wallet_selector_update",
    )
    def put(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        selector = wallet_location_selector_update(
            campaign=campaign, body=json_object_body(request)
        )
        return Response(selector_payload(selector, root=site_root(request)))

    @extend_schema(responses={204: None}, operation_id="wallet_selector_delete")
    def delete(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        wallet_location_selector_delete(campaign=campaign)
        return Response(status=status.HTTP_204_NO_CONTENT)
