"""Public wallet routes: SmartLinks and pass downloads (/c/...), Apple's PassKit web
service (/passkit/v1/...) and Google's callback endpoint (/wallet/google/callback)."""

from __future__ import annotations

from django.urls import path

from . import passkit, smartlink

urlpatterns = [
    path("c/<str:wallet_id>", smartlink.smartlink_view, name="wallet-smartlink"),
    path("c/<str:wallet_id>/", smartlink.smartlink_view),
    path(
        "c/<str:wallet_id>/images/<str:name>.png",
        smartlink.campaign_image_view,
        name="wallet-image",
    ),
    path(
        "c/<str:wallet_id>/<str:wallet_item_id>.pkpass", smartlink.pkpass_view, name="wallet-pkpass"
    ),
    path(
        "passkit/v1/devices/<str:device_id>/registrations/<str:pass_type_id>/<str:serial>",
        passkit.RegistrationView.as_view(),
        name="passkit-registration",
    ),
    path(
        "passkit/v1/devices/<str:device_id>/registrations/<str:pass_type_id>",
        passkit.SerialNumbersView.as_view(),
        name="passkit-serials",
    ),
    path(
        "passkit/v1/passes/<str:pass_type_id>/<str:serial>",
        passkit.LatestPassView.as_view(),
        name="passkit-pass",
    ),
    path("passkit/v1/log", passkit.LogView.as_view(), name="passkit-log"),
    path("wallet/google/callback", passkit.GoogleCallbackView.as_view(), name="google-callback"),
]
