"""Campaign Manager routes under /companies/:company_key/campaigns."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("acquisition", views.AcquisitionCampaignListView.as_view(), "acquisition-list"),
    *api_path(
        "acquisition/<str:campaign_id>",
        views.AcquisitionCampaignDetailView.as_view(),
        "acquisition-detail",
    ),
    *api_path(
        "acquisition/<str:campaign_id>/participants",
        views.ParticipantListView.as_view(),
        "acquisition-participants",
    ),
]
