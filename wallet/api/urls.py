"""Wallet Manager routes under /companies/:company_key/campaigns/wallet."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("", views.WalletCampaignListView.as_view(), "wallet-campaigns"),
    *api_path("<str:wallet_id>", views.WalletCampaignDetailView.as_view(), "wallet-campaign"),
    *api_path("<str:wallet_id>/items", views.WalletItemListView.as_view(), "wallet-items"),
    *api_path(
        "<str:wallet_id>/items/<str:wallet_item_id>",
        views.WalletItemDetailView.as_view(),
        "wallet-item",
    ),
    *api_path("<str:wallet_id>/messages", views.WalletMessageListView.as_view(), "wallet-messages"),
    *api_path(
        "<str:wallet_id>/messages/<str:wallet_message_id>",
        views.WalletMessageDetailView.as_view(),
        "wallet-message",
    ),
]
