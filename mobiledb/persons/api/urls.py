"""Persons, their tags and custom fields under /companies/:company_key/mobiledb."""

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
