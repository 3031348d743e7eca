"""Subscription lists and persons' subscriptions under /companies/:company_key/mobiledb."""

from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

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
        "persons/<str:person_id>/subscriptions/<str:list_id>",
        views.PersonSubscriptionDetailView.as_view(),
        "person-subscription",
    ),
]
