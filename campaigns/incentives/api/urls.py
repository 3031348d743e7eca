"""Incentive routes under /companies/:company_key/incentives (seeds/003's tree); the
root URL conf includes this module at the company's root, so it owns its prefix (the
`.../incentives` index itself is the root URL conf's, linking these by name)."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("incentives/pools", views.PoolListView.as_view(), "incentive-pool-list"),
    *api_path(
        "incentives/pools/<str:pool_id>", views.PoolDetailView.as_view(), "incentive-pool-detail"
    ),
    *api_path(
        "incentives/pools/<str:pool_id>/codes",
        views.PoolCodesView.as_view(),
        "incentive-pool-codes",
    ),
    *api_path(
        "incentives/pools/<str:pool_id>/issuances",
        views.PoolIssuancesView.as_view(),
        "incentive-issuances",
    ),
    *api_path("incentives/codes", views.CodeListView.as_view(), "incentive-code-list"),
    *api_path(
        "incentives/codes/<str:code>", views.CodeDetailView.as_view(), "incentive-code-detail"
    ),
    *api_path(
        "incentives/codes/<str:code>/issuances",
        views.CodeIssuancesView.as_view(),
        "incentive-code-issuances",
    ),
    *api_path(
        "incentives/codes/<str:code>/redemptions",
        views.CodeRedemptionsView.as_view(),
        "incentive-code-redemptions",
    ),
]
