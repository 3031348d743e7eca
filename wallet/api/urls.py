"""Wallet Manager routes, included at /companies/:company_key/campaigns/wallet (each path
with and without its trailing slash)."""

from __future__ import annotations

from django.urls import path

from . import views


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
]
