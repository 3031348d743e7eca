"""Public pages of the campaigns app (no authentication)."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("join/<str:token>", views.signup, name="campaign-signup"),
]
