"""Wallet Manager routes, included at /companies/:company_key/campaigns/wallet (each path
with and without its trailing slash)."""

from __future__ import annotations

from django.urls import path

from . import location_views, template_views, views


def _both(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(route + "/", view)]


urlpatterns = [
    *_both("", views.WalletCampaignListView.as_view(), "wallet-campaigns"),
    *_both("/<str:wallet_id>", views.WalletCampaignDetailView.as_view(), "wallet-campaign"),
    *_both("/<str:wallet_id>/items", views.WalletItemListView.as_view(), "wallet-items"),
    *_both(
        "/<str:wallet_id>/items/<str:wallet_item_id>",
        views.WalletItemDetailView.as_view(),
        "wallet-item",
    ),
    *_both("/<str:wallet_id>/messages", views.WalletMessageListView.as_view(), "wallet-messages"),
    *_both(
        "/<str:wallet_id>/messages/<str:wallet_message_id>",
        views.WalletMessageDetailView.as_view(),
        "wallet-message",
    ),
    # The platform's templates, stores and location selector (reference OpenAPI).
    *_both(
        "/<str:wallet_id>/passbook_template",
        template_views.PassbookTemplateView.as_view(),
        "wallet-passbook-template",
    ),
    *_both(
        "/<str:wallet_id>/wallet_template",
        template_views.GoogleWalletTemplateView.as_view(),
        "wallet-google-template",
    ),
    *_both(
        "/<str:wallet_id>/location_selector",
        location_views.WalletLocationSelectorView.as_view(),
        "wallet-location-selector",
    ),
    *_both(
        "/<str:wallet_id>/locations",
        location_views.WalletLocationListView.as_view(),
        "wallet-locations",
    ),
    # Before the one-store route: `bulk` and `delete_all` are not store ids.
    *_both(
        "/<str:wallet_id>/locations/bulk",
        location_views.WalletLocationBulkView.as_view(),
        "wallet-locations-bulk",
    ),
    *_both(
        "/<str:wallet_id>/locations/delete_all",
        location_views.WalletLocationDeleteAllView.as_view(),
        "wallet-locations-delete-all",
    ),
    *_both(
        "/<str:wallet_id>/locations/<str:wallet_location_id>",
        location_views.WalletLocationDetailView.as_view(),
        "wallet-location",
    ),
]
