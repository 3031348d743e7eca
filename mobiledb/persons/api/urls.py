from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("persons", views.PersonListView.as_view(), "person-list"),
    *api_path(
        "persons/external/<path:external_person_id>",
        views.PersonDetailView.as_view(),
        "person-external",
    ),
    *api_path("persons/<str:person_id>", views.PersonDetailView.as_view(), "person-detail"),
    *api_path("persons/<str:person_id>/tags", views.PersonTagListView.as_view(), "person-tags"),
    *api_path(
        "persons/<str:person_id>/tags/<str:tag>", views.PersonTagDetailView.as_view(), "person-tag"
    ),
    *api_path("custom_fields", views.CustomFieldListView.as_view(), "customfield-list"),
    *api_path(
        "custom_fields/<int:field_id>", views.CustomFieldDetailView.as_view(), "customfield-detail"
    ),
]

# Subscription lists, subscriptions, broadcasts (issue 5)
from campaigns.api import views as campaign_views  # noqa: E402

from . import subscriptions as subscription_views  # noqa: E402

urlpatterns += [
    *api_path(
        "subscription_lists",
        subscription_views.SubscriptionListListView.as_view(),
        "subscriptionlist-list",
    ),
    *api_path(
        "subscription_lists/<str:list_id>",
        subscription_views.SubscriptionListDetailView.as_view(),
        "subscriptionlist-detail",
    ),
    *api_path(
        "subscription_lists/<str:list_id>/subscribers",
        subscription_views.SubscriptionListSubscribersView.as_view(),
        "subscriptionlist-subscribers",
    ),
    *api_path(
        "subscription_lists/<str:list_id>/acquisition_campaigns",
        subscription_views.SubscriptionListCampaignsView.as_view(),
        "subscriptionlist-campaigns",
    ),
    *api_path(
        "persons/<str:person_id>/subscriptions",
        subscription_views.PersonSubscriptionListView.as_view(),
        "person-subscriptions",
    ),
    *api_path(
        "persons/<str:person_id>/subscriptions/<str:list_id>",
        subscription_views.PersonSubscriptionDetailView.as_view(),
        "person-subscription",
    ),
    *api_path(
        "persons/<str:person_id>/pending_acquisitions",
        campaign_views.PersonPendingAcquisitionsView.as_view(),
        "person-pending-acquisitions",
    ),
    # seeds/003's "Former full copy" spells it so; integrators may have copied it
    *api_path(
        "persons/<str:person_id>/pending_acquistions",
        campaign_views.PersonPendingAcquisitionsView.as_view(),
        "person-pending-acquisitions-seed-spelling",
    ),
    *api_path("broadcasts", subscription_views.BroadcastListView.as_view(), "broadcast-list"),
    *api_path(
        "broadcasts/<str:broadcast_id>",
        subscription_views.BroadcastDetailView.as_view(),
        "broadcast-detail",
    ),
]
