"""Campaign routes that live in mobiledb's tree (/companies/:company_key/mobiledb/...):
the root URL conf includes them beside mobiledb's own, so mobiledb never imports campaigns."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path(
        "subscription_lists/<str:list_id>/acquisition_campaigns",
        views.SubscriptionListCampaignsView.as_view(),
        "subscriptionlist-campaigns",
    ),
    *api_path(
        "persons/<str:person_id>/pending_acquisitions",
        views.PersonPendingAcquisitionsView.as_view(),
        "person-pending-acquisitions",
    ),
    # seeds/003's "Former full copy" spells it so; integrators may have copied it
    *api_path(
        "persons/<str:person_id>/pending_acquistions",
        views.PersonPendingAcquisitionsView.as_view(),
        "person-pending-acquisitions-seed-spelling",
    ),
]
