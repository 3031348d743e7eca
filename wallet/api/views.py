"""Wallet Manager API (SPEC section 10): thin views over the services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from vibesweb.api.views import CompanyAPIView, json_object_body

from ..errors import WalletRequired
from ..links import site_root
from ..models import WalletItem, WalletMessage
from ..selectors import wallet_items_list
from ..services.campaigns import (
    campaign_payload,
    wallet_campaign_create,
    wallet_campaign_get,
    wallet_campaign_update,
)
from ..services.items import item_payload, wallet_item_get, wallet_item_update
from ..services.messages import message_payload, wallet_message_create, wallet_message_get
from . import shapes
from .pagination import NewestFirstPagination, RecentlyUpdatedPagination


def campaign_body(request) -> dict:
    """The `campaign` object of a `{"campaign": {...}}` body (a bare object is accepted)."""
    body = json_object_body(request)
    inner = body.get("campaign", body)
    if not isinstance(inner, dict):
        raise WalletRequired('the body must be {"campaign": {...}}')
    return inner


ITEM_PAGING = ("page_size", "page_token", "limit")


class WalletListView(CompanyAPIView):
    """A list paginated by the view's own `pagination_class`."""

    pagination_class = NewestFirstPagination
    query_parameters = ITEM_PAGING

    def paginated_response(self, queryset, render):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(render(page))


class WalletCampaignListView(WalletListView):
    """`GET` the company's wallet campaigns, most recently updated first; `POST` one."""

    pagination_class = RecentlyUpdatedPagination
    query_parameters = ("limit", "cursor")

    @extend_schema(responses=shapes.CampaignOutput(many=True), operation_id="wallet_campaigns")
    def get(self, request, company_key: str):
        root = site_root(request)
        campaigns = self.company.wallet_campaigns.select_related("company")
        return self.paginated_response(
            campaigns, lambda page: [campaign_payload(c, root=root) for c in page]
        )

    @extend_schema(
        request=shapes.CampaignBody,
        responses={201: shapes.CampaignEnvelope},
        operation_id="wallet_campaign_create",
    )
    def post(self, request, company_key: str):
        campaign = wallet_campaign_create(company=self.company, fields=campaign_body(request))
        payload = campaign_payload(campaign, root=site_root(request))
        return Response({"campaign": payload}, status=status.HTTP_201_CREATED)


class WalletCampaignDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses=shapes.CampaignOutput, operation_id="wallet_campaign_get")
    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        return Response(campaign_payload(campaign, root=site_root(request)))

    @extend_schema(
        request=shapes.CampaignBody,
        responses=shapes.CampaignOutput,
        operation_id="wallet_campaign_update",
    )
    def put(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        campaign = wallet_campaign_update(campaign=campaign, fields=campaign_body(request))
        return Response(campaign_payload(campaign, root=site_root(request)))


class WalletItemListView(WalletListView):
    """`GET` a campaign's items, newest first, filtered by the query (SPEC 10)."""

    def query_parameter_allowed(self, name: str) -> bool:
        # any token filters (`?first_name=`); the selector refuses a malformed one (400)
        return True

    @extend_schema(responses=shapes.ItemOutput(many=True), operation_id="wallet_items")
    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        items = wallet_items_list(campaign=campaign, params=request.query_params)

        def render(page: list[WalletItem]) -> list[dict]:
            for item in page:
                item.campaign = campaign
            return [item_payload(item) for item in page]

        return self.paginated_response(items, render)


class WalletItemDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses=shapes.ItemOutput, operation_id="wallet_item_get")
    def get(self, request, company_key: str, wallet_id: str, wallet_item_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        item = wallet_item_get(campaign=campaign, wallet_item_id=wallet_item_id)
        return Response(item_payload(item))

    @extend_schema(
        request=shapes.ItemInput, responses=shapes.ItemOutput, operation_id="wallet_item_update"
    )
    def put(self, request, company_key: str, wallet_id: str, wallet_item_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        item = wallet_item_get(campaign=campaign, wallet_item_id=wallet_item_id)
        item = wallet_item_update(item=item, fields=json_object_body(request))
        item.campaign = campaign
        return Response(item_payload(item))


class WalletMessageListView(WalletListView):
    """`POST` a message to the items the filters select (sent by a task); `GET` the
    campaign's messages, latest first."""

    @extend_schema(responses=shapes.MessageOutput(many=True), operation_id="wallet_messages")
    def get(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        messages = WalletMessage.objects.filter(campaign=campaign)

        def render(page: list[WalletMessage]) -> list[dict]:
            for message in page:
                message.campaign = campaign
            return [message_payload(message) for message in page]

        return self.paginated_response(messages, render)

    @extend_schema(
        request=shapes.MessageInput,
        responses={200: shapes.MessageOutput},
        operation_id="wallet_message_create",
    )
    def post(self, request, company_key: str, wallet_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        message = wallet_message_create(campaign=campaign, body=json_object_body(request))
        # The platform answers 200 (reference OpenAPI); the message is queued.
        return Response(message_payload(message), status=status.HTTP_200_OK)


class WalletMessageDetailView(CompanyAPIView):
    query_parameters = ()

    @extend_schema(responses=shapes.MessageOutput, operation_id="wallet_message_get")
    def get(self, request, company_key: str, wallet_id: str, wallet_message_id: str):
        campaign = wallet_campaign_get(company=self.company, wallet_id=wallet_id)
        message = wallet_message_get(campaign=campaign, wallet_message_id=wallet_message_id)
        return Response(message_payload(message))
