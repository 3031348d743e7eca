"""Subscription lists and persons' subscriptions under /companies/:company_key/mobiledb."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

# A person by external id: listed before the persons' own `persons/external/<path:...>`
# route (mobiledb/urls.py), which would otherwise take `.../subscriptions` as part of the id.
external_person_urls = [
    *api_path(
        "persons/external/<path:external_person_id>/subscriptions",
        views.PersonSubscriptionListView.as_view(),
        "person-external-subscriptions",
    ),
    *api_path(
        "persons/external/<path:external_person_id>/subscriptions/<str:list_id>",
        views.PersonSubscriptionDetailView.as_view(),
        "person-external-subscription",
    ),
]

urlpatterns = [
    *api_path(
        "subscription_lists", views.SubscriptionListListView.as_view(), "subscriptionlist-list"
    ),
    *api_path(
        "subscription_lists/<str:list_id>",
        views.SubscriptionListDetailView.as_view(),
        "subscriptionlist-detail",
    ),
    *api_path(
        "subscription_lists/<str:list_id>/subscribers",
        views.SubscriptionListSubscribersView.as_view(),
        "subscriptionlist-subscribers",
    ),
    *api_path(
        "persons/<str:person_id>/subscriptions",
        views.PersonSubscriptionListView.as_view(),
        "person-subscriptions",
    ),
    *api_path(
        "persons/<str:person_id>/consent", views.PersonConsentView.as_view(), "person-consent"
    ),
    *api_path(
        "persons/<str:person_id>/subscriptions/<str:list_id>",
        views.PersonSubscriptionDetailView.as_view(),
        "person-subscription",
    ),
]
