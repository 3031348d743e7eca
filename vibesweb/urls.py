"""URL map: the platform's REST tree under /companies/:company_key, the admin, the docs.

The one module of vibesweb that imports the apps above it: it composes every app's
routes (the import contract in pyproject.toml allows exactly this).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from campaigns.api import views as campaign_api_views
from vibesweb.api import views as api_views
from vibesweb.api.routing import api_path
from vibesweb.login_throttle import ThrottledAdminAuthenticationForm

# The index resources GET /companies/:key links to, each linking its children.
INDEXES = {
    "mobiledb": {
        "persons_url": "person-list",
        "custom_fields_url": "customfield-list",
        "subscription_lists_url": "subscriptionlist-list",
        "broadcasts_url": "broadcast-list",
    },
    "campaigns": {"acquisition_url": "acquisition-list", "wallet_url": "wallet-campaigns"},
    "config": {"callbacks_url": "callback-list", "callback_events_test_url": "callback-test"},
    "incentives": {"pools_url": "incentive-pool-list", "codes_url": "incentive-code-list"},
}

company_routes = [
    # The persons' routes first: Django tries patterns in order, and these serve most
    # requests (the index routes below are exact paths that none of them can match).
    path("mobiledb/", include("mobiledb.urls")),
    *api_path("", api_views.CompanyDetailView.as_view(), "company-detail"),
    *api_path("heartbeat", api_views.CompanyHeartbeatView.as_view(), "company-heartbeat"),
    *[
        route
        for name, children in INDEXES.items()
        for route in api_path(name, api_views.IndexView.as_view(children=children), f"{name}-index")
    ],
    path("mobiledb/", include("campaigns.api.mobiledb_urls")),
    path("config/", include("callbacks.api.urls")),
    path("campaigns/wallet", include("wallet.api.urls")),
    path("campaigns/", include("campaigns.api.urls")),
    path("", include("campaigns.incentives.api.urls")),
    *api_path("events", campaign_api_views.InboundEventView.as_view(), "inbound-events"),
]

# The product's name wherever Django's admin would say "Django administration".
admin.site.site_header = "vibesweb"
admin.site.site_title = "vibesweb"
admin.site.index_title = "Your mobile database"

urlpatterns = [
    # The API first: Django tries patterns in order and the API serves most requests; the
    # pages below have prefixes of their own (admin/, c/, passkit/, wallet/, join/).
    *api_path("heartbeat", api_views.HeartbeatView.as_view(), "heartbeat"),
    *api_path("companies", api_views.CompanyListView.as_view(), "company-list"),
    path("companies/<str:company_key>", api_views.CompanyDetailView.as_view()),
    path("companies/<str:company_key>/", include(company_routes)),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("wallet.public.urls")),
    path("", include("campaigns.signup.urls")),
    # no versioning: the schema's info.version is the product's, not "1 (1)"
    path("api/schema", SpectacularAPIView.as_view(versioning_class=None), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

admin.site.login_form = ThrottledAdminAuthenticationForm

handler404 = "vibesweb.api.exceptions.json_not_found"
handler500 = "vibesweb.api.exceptions.json_server_error"
handler400 = "vibesweb.api.exceptions.json_bad_request"
