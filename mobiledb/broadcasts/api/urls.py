"""Broadcasts under /companies/:company_key/mobiledb."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("broadcasts", views.BroadcastListView.as_view(), "broadcast-list"),
    *api_path(
        "broadcasts/<str:broadcast_id>", views.BroadcastDetailView.as_view(), "broadcast-detail"
    ),
]
